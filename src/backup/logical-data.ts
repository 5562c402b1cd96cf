/**
 * Table data as SQL: one INSERT per line, rows batched up to a size limit.
 * Values are read as the raw bytes the server stores (character_set_results
 * NULL, no type casting) and written so they load back bit for bit:
 * numbers and decimals as the server printed them, printable ASCII as quoted
 * strings, any other bytes as X'..' hex literals (exact in every character
 * set), BIT and geometry always as hex, NULL as NULL.
 */
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { Connection } from '../mysql/index.js';
import {
  GEOMETRY_DATA_TYPES,
  INTEGER_DATA_TYPES,
  quoteIdentifier,
  quoteTableName,
  quoteValue,
} from '../mysql/index.js';

/** A column as the dump writes it. */
export interface DumpColumn {
  readonly name: string;
  /** information_schema DATA_TYPE, lower case. */
  readonly dataType: string;
}

const NUMERIC = new Set([...INTEGER_DATA_TYPES, 'decimal', 'float', 'double', 'year']);
const ALWAYS_HEX = new Set(['bit', ...GEOMETRY_DATA_TYPES]);

type Encoder = (value: Buffer) => string;

const asNumber: Encoder = (value) => value.toString('latin1');
const asHex: Encoder = (value) => (value.length === 0 ? "''" : `X'${value.toString('hex')}'`);
// MySQL's JSON type refuses binary strings, and its text is always utf8mb4.
const asUtf8: Encoder = (value) => quoteValue(value.toString('utf8'));
const asBytes: Encoder = (value) =>
  isPlainAscii(value) ? quoteValue(value.toString('latin1')) : asHex(value);

function isPlainAscii(value: Buffer): boolean {
  for (const byte of value) {
    if ((byte < 0x20 || byte > 0x7e) && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true;
}

function encoderFor(column: DumpColumn): Encoder {
  if (NUMERIC.has(column.dataType)) return asNumber;
  if (ALWAYS_HEX.has(column.dataType)) return asHex;
  if (column.dataType === 'json') return asUtf8;
  return asBytes;
}

/** Statements grow up to this many bytes; well under every server's max_allowed_packet default. */
const BATCH_BYTES = 1 << 20;

/** Turns raw rows (arrays of Buffer|null) into INSERT statements, one per line. */
export class InsertWriter extends Transform {
  readonly #head: string;
  readonly #encoders: readonly Encoder[];
  #values: string[] = [];
  #bytes = 0;
  rows = 0;

  constructor(table: string, columns: readonly DumpColumn[]) {
    super({ writableObjectMode: true });
    // Unqualified: the loader chooses the database with USE.
    this.#head = `INSERT INTO ${quoteIdentifier(table)} (${columns.map((c) => quoteIdentifier(c.name)).join(',')}) VALUES `;
    this.#encoders = columns.map(encoderFor);
  }

  override _transform(row: (Buffer | null)[], _encoding: BufferEncoding, done: TransformCallback): void {
    const parts = new Array<string>(row.length);
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      parts[i] = value === null || value === undefined ? 'NULL' : (this.#encoders[i] as Encoder)(value);
    }
    const tuple = `(${parts.join(',')})`;
    this.rows++;
    if (this.#bytes + tuple.length > BATCH_BYTES && this.#values.length > 0) this.#emit();
    this.#values.push(tuple);
    this.#bytes += tuple.length + 1;
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.#values.length > 0) this.#emit();
    done();
  }

  #emit(): void {
    this.push(`${this.#head}${this.#values.join(',')};\n`);
    this.#values = [];
    this.#bytes = 0;
  }
}

/**
 * The server prints FLOAT with 6 significant digits, which loses bits; as a
 * DOUBLE (exact for every float) it prints enough digits to load back exactly.
 */
function selectExpression(column: DumpColumn): string {
  const name = quoteIdentifier(column.name);
  return column.dataType === 'float' ? `CAST(${name} AS DOUBLE)` : name;
}

/**
 * Streams a table's rows as raw bytes, with backpressure: the driver stops
 * reading the socket while the consumer is behind, so no table is held in memory.
 */
export function streamTableRows(
  conn: Connection,
  schema: string,
  table: string,
  columns: readonly DumpColumn[],
): Readable {
  const sql = `SELECT ${columns.map(selectExpression).join(',')} FROM ${quoteTableName(schema, table)}`;
  const core = (
    conn as unknown as { connection: { query(options: object): { stream(o: object): Readable } } }
  ).connection;
  return core.query({ sql, rowsAsArray: true, typeCast: false }).stream({ highWaterMark: 256 });
}
