/**
 * The baseline file `salvage snapshot` writes and `salvage detect` reads:
 * per table the row count, checksum, chunk checksums (for tables of more
 * than one chunk, with their key bounds so detect can recompute the same
 * chunks), the schema and its fingerprint, and the column profiles.
 * Written to a temporary name and renamed, so a reader never sees half a file.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { SalvageError } from '../errors.js';

const KeyValue = z.union([z.string(), z.number(), z.null(), z.object({ hex: z.string() })]);

const ChunkEntry = z.object({
  lower: z.array(KeyValue).nullable(),
  upper: z.array(KeyValue).nullable(),
  rows: z.number().int().nonnegative(),
  checksum: z.string().regex(/^\d+$/),
});

const TableEntry = z.object({
  table: z.string(),
  schema: z.string(),
  name: z.string(),
  rows: z.number().int().nonnegative(),
  checksum: z.string().regex(/^\d+$/),
  fingerprint: z.string(),
  columns: z.array(
    z.object({ name: z.string(), type: z.string(), nullable: z.boolean(), charset: z.string().nullable() }),
  ),
  indexes: z.array(z.object({ name: z.string(), unique: z.boolean(), columns: z.array(z.string()) })),
  chunking: z.object({
    key: z.object({ kind: z.enum(['primary', 'unique', 'none']), columns: z.array(z.string()) }),
    method: z.enum(['integer-range', 'key-walk', 'single']),
    bound_columns: z.array(z.string()),
    /** Present only for tables of more than one chunk. */
    chunks: z.array(ChunkEntry).nullable(),
  }),
  profile: z.object({
    rows: z.number().int().nonnegative(),
    sample_modulus: z.number().int().positive(),
    columns: z.array(
      z.object({
        name: z.string(),
        nulls: z.number().int().nonnegative(),
        null_rate: z.number().min(0).max(1),
        distinct: z.number().int().nonnegative(),
      }),
    ),
  }),
});

export const Baseline = z.object({
  format: z.literal('salvage-baseline'),
  version: z.literal(1),
  taken_at: z.string(),
  server: z.string(),
  /** Notes a reader should know, e.g. which distinct counts are sampled. */
  notes: z.array(z.string()),
  tables: z.array(TableEntry),
});
export type Baseline = z.infer<typeof Baseline>;
export type BaselineTable = z.infer<typeof TableEntry>;

export async function writeBaseline(path: string, baseline: Baseline): Promise<void> {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, `${JSON.stringify(baseline, null, 2)}\n`);
  await rename(temp, path);
}

export async function readBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SalvageError(
      'FILE_NOT_FOUND',
      `Cannot read the baseline ${path}: ${(error as Error).message}`,
      {
        hint: 'Give --baseline a file written by `salvage snapshot --out FILE`.',
        context: { file: path },
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badBaseline(path, `it is not JSON (${(error as Error).message})`);
  }
  const parsed = Baseline.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badBaseline(path, `${issue.path.join('.') || 'the document'}: ${issue.message}`);
  }
  return parsed.data;
}

function badBaseline(path: string, why: string): SalvageError {
  return new SalvageError('BAD_INPUT', `${path} is not a salvage baseline: ${why}.`, {
    hint: 'Take a new one with `salvage snapshot --source DSN --out FILE`; do not edit it by hand.',
    context: { file: path },
  });
}
