/**
 * Where the first of some transactions starts in binlog files, found by
 * stepping from event header to event header: only FORMAT_DESCRIPTION and
 * GTID events are decoded, nothing else is copied or checked beyond its
 * header (a reader starting there verifies what it reads).
 */
import { basename } from 'node:path';
import { EventType } from '../event-types.js';
import { type BinlogFormat, DEFAULT_FORMAT } from '../events/format-description.js';
import { decodeEvent } from '../events/index.js';
import { readBinlogFileChunks } from './files.js';

/** A transaction's first event: a file of the list and the offset of its GTID event. */
export interface TransactionStart {
  readonly fileIndex: number;
  readonly file: string;
  readonly position: number;
}

/** START_ENCRYPTION is decoded so that an encrypted file is refused, not misread. */
const HEADS: ReadonlySet<number> = new Set([
  EventType.FORMAT_DESCRIPTION,
  EventType.START_ENCRYPTION,
  EventType.GTID,
  EventType.GTID_TAGGED,
  EventType.MARIADB_GTID,
]);

/** The first transaction of `gtids` in `files`; undefined when none of them is there. */
export async function findTransactionStart(
  files: readonly string[],
  gtids: ReadonlySet<string>,
): Promise<TransactionStart | undefined> {
  for (const [fileIndex, path] of files.entries()) {
    const file = basename(path);
    let format: BinlogFormat = DEFAULT_FORMAT;
    for await (const chunk of readBinlogFileChunks(path)) {
      const { buffer } = chunk;
      let position = chunk.position;
      for (let at = chunk.start; at < chunk.end; ) {
        const length = buffer.readUInt32LE(at + 9);
        const type = buffer[at + 4] as number;
        if (HEADS.has(type)) {
          const isFde = type === EventType.FORMAT_DESCRIPTION;
          const event = decodeEvent(buffer, at, at + length, format, format.checksum && !isFde, {
            file,
            position,
          });
          if (event.kind === 'format-description') format = event.format;
          else if ((event.kind === 'gtid' || event.kind === 'mariadb-gtid') && gtids.has(event.gtid ?? '')) {
            return { fileIndex, file, position };
          }
        }
        at += length;
        position += length;
      }
    }
  }
  return undefined;
}
