/**
 * The statement text behind row events: MySQL's ROWS_QUERY_LOG_EVENT (29,
 * with binlog_rows_query_log_events) and MariaDB's ANNOTATE_ROWS_EVENT (160,
 * with binlog_annotate_row_events).
 */
import type { ByteReader } from '../byte-reader.js';
import { EventType } from '../event-types.js';
import type { EventHeader } from './header.js';

export interface RowsQueryEvent {
  readonly kind: 'rows-query';
  readonly header: EventHeader;
  readonly query: string;
}

export function decodeRowsQuery(r: ByteReader, header: EventHeader): RowsQueryEvent {
  // MySQL prefixes a 1-byte length that overflows for long statements; the text runs to the end of the body.
  if (header.type === EventType.ROWS_QUERY) r.skip(1);
  return { kind: 'rows-query', header, query: r.string(r.remaining) };
}
