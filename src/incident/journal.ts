/**
 * The incident journal: an append-only NDJSON file, one entry per step
 * transition, each entry hash-chained to the one before it so a hand edit is
 * detected. Appends are fsynced; a kill -9 in the middle of an append leaves
 * a torn last line, which is recognised as an unfinished append and dropped.
 */
import { createHash } from 'node:crypto';
import { open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { SalvageError } from '../errors.js';

export const JOURNAL_FILE = 'journal.ndjson';

/** The hash the first entry chains to. */
export const GENESIS_HASH = '0'.repeat(64);

export const STEP_STATUSES = ['started', 'done', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(JsonValueSchema),
    z.record(z.string(), JsonValueSchema),
  ]),
);

const JournalEntrySchema = z.object({
  seq: z.number().int().positive(),
  step: z.string().min(1),
  status: z.enum(STEP_STATUSES),
  inputs: z.record(z.string(), JsonValueSchema),
  outputs: z.record(z.string(), JsonValueSchema),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  prev_hash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

/** One transition of one step. */
export type JournalEntry = z.infer<typeof JournalEntrySchema> & {
  readonly inputs: JsonObject;
  readonly outputs: JsonObject;
};

/** What a caller appends; sequence, times and hashes are the journal's. */
export interface EntryDraft {
  readonly step: string;
  readonly status: StepStatus;
  readonly inputs?: JsonObject;
  readonly outputs?: JsonObject;
  /** When the step started (default now); `ended_at` is now for done/failed, null for started. */
  readonly startedAt?: string;
}

export interface JournalContents {
  readonly entries: readonly JournalEntry[];
  /** Bytes after the last complete line: an append cut short by a crash. */
  readonly torn: { readonly offset: number; readonly bytes: number } | undefined;
}

export interface Journal {
  readonly path: string;
  entries(): readonly JournalEntry[];
  append(draft: EntryDraft): Promise<JournalEntry>;
}

/** JSON with object keys sorted at every level: the bytes the hash is taken over. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** SHA-256 over the previous hash and the canonical entry without its own hash. */
export function entryHash(entry: Omit<JournalEntry, 'hash'>): string {
  const { hash: _ignored, ...rest } = entry as JournalEntry;
  return createHash('sha256').update(entry.prev_hash).update('\n').update(canonicalJson(rest)).digest('hex');
}

/**
 * Reads and checks a journal: every complete line must parse, follow its
 * predecessor's sequence and hash, and hash to what it says. Anything else
 * means the file was edited or damaged, and nothing may be built on it.
 */
export async function readJournal(path: string): Promise<JournalContents> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SalvageError('INCIDENT_NOT_FOUND', `There is no incident journal at ${path}.`, {
        context: { file: path },
      });
    }
    throw error;
  }
  const end = text.lastIndexOf('\n') + 1;
  const torn =
    end < text.length
      ? { offset: Buffer.byteLength(text.slice(0, end)), bytes: Buffer.byteLength(text.slice(end)) }
      : undefined;
  const lines = text.slice(0, end).split('\n').slice(0, -1);
  const entries: JournalEntry[] = [];
  let previous = GENESIS_HASH;
  lines.forEach((line, index) => {
    const entry = parseLine(path, line, index + 1);
    const broken = (why: string) =>
      new SalvageError(
        'JOURNAL_BROKEN',
        `The journal ${path} was changed after it was written: line ${index + 1} ${why}.`,
        {
          context: { file: path, line: index + 1 },
        },
      );
    if (entry.seq !== index + 1) throw broken(`has sequence ${entry.seq}, expected ${index + 1}`);
    if (entry.prev_hash !== previous) throw broken('does not chain to the line before it');
    if (entryHash(entry) !== entry.hash) throw broken('does not match its hash');
    previous = entry.hash;
    entries.push(entry);
  });
  return { entries, torn };
}

function parseLine(path: string, line: string, number: number): JournalEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new SalvageError('JOURNAL_BROKEN', `Line ${number} of the journal ${path} is not JSON.`, {
      context: { file: path, line: number },
    });
  }
  const parsed = JournalEntrySchema.safeParse(value);
  if (!parsed.success) {
    throw new SalvageError(
      'JOURNAL_BROKEN',
      `Line ${number} of the journal ${path} is not a journal entry: ${parsed.error.issues[0]?.message ?? 'bad shape'}.`,
      {
        context: { file: path, line: number },
      },
    );
  }
  return parsed.data as JournalEntry;
}

/**
 * Opens a journal for appending. A torn tail is cut off first (else the next
 * entry would be glued to it); `onNotice` is told so.
 */
export async function openJournal(path: string, onNotice?: (message: string) => void): Promise<Journal> {
  const contents = await readJournal(path);
  if (contents.torn) {
    onNotice?.(
      `The journal's last ${contents.torn.bytes} bytes are an append a crash cut short; they are ignored and the step they began runs again.`,
    );
    await truncate(path, contents.torn.offset);
  }
  return journalAt(path, [...contents.entries]);
}

/** Creates an empty journal; fails if one exists. */
export async function createJournal(path: string): Promise<Journal> {
  const handle = await open(path, 'wx');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The new name must survive a crash too: sync the directory that holds it.
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return journalAt(path, []);
}

function journalAt(path: string, entries: JournalEntry[]): Journal {
  return {
    path,
    entries: () => entries,
    async append(draft) {
      const now = new Date().toISOString();
      const body: Omit<JournalEntry, 'hash'> = {
        seq: entries.length + 1,
        step: draft.step,
        status: draft.status,
        inputs: draft.inputs ?? {},
        outputs: draft.outputs ?? {},
        started_at: draft.startedAt ?? now,
        ended_at: draft.status === 'started' ? null : now,
        prev_hash: entries.at(-1)?.hash ?? GENESIS_HASH,
      };
      // Through JSON and back so what is hashed is exactly what a reader parses.
      const entry = JSON.parse(JSON.stringify({ ...body, hash: '' })) as JournalEntry;
      entry.hash = entryHash(entry);
      const handle = await open(path, 'a');
      try {
        await handle.write(`${JSON.stringify(entry)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      entries.push(entry);
      return entry;
    },
  };
}

/** The last entry of `step`, if any. */
export function lastEntryOf(entries: readonly JournalEntry[], step: string): JournalEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.step === step) return entries[i];
  return undefined;
}
