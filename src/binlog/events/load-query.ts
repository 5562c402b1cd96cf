/**
 * LOAD DATA in statement-based logs: BEGIN_LOAD_QUERY_EVENT carries the file's
 * first block, EXECUTE_LOAD_QUERY_EVENT the statement that loads it
 * (`Begin_load_query_log_event`, `Execute_load_query_log_event`).
 */
import type { ByteReader } from '../byte-reader.js';
import type { BinlogFormat } from './format-description.js';
import type { EventHeader } from './header.js';
import { decodeQueryLike, type QueryEvent } from './query.js';

export interface BeginLoadQueryEvent {
  readonly kind: 'begin-load-query';
  readonly header: EventHeader;
  readonly fileId: number;
  readonly block: Buffer;
}

export interface ExecuteLoadQueryEvent extends Omit<QueryEvent, 'kind'> {
  readonly kind: 'execute-load-query';
  readonly fileId: number;
  /** Offsets in the query of the file name to substitute. */
  readonly startPos: number;
  readonly endPos: number;
  /** 0 error, 1 IGNORE, 2 REPLACE. */
  readonly duplicates: number;
}

export function decodeBeginLoadQuery(r: ByteReader, header: EventHeader): BeginLoadQueryEvent {
  return { kind: 'begin-load-query', header, fileId: r.u32(), block: Buffer.from(r.rest()) };
}

export function decodeExecuteLoadQuery(
  r: ByteReader,
  header: EventHeader,
  format: BinlogFormat,
): ExecuteLoadQueryEvent {
  let fileId = 0;
  let startPos = 0;
  let endPos = 0;
  let duplicates = 0;
  const query = decodeQueryLike(r, header, format, (p) => {
    fileId = p.u32();
    startPos = p.u32();
    endPos = p.u32();
    duplicates = p.u8();
  });
  return { ...query, kind: 'execute-load-query', fileId, startPos, endPos, duplicates };
}
