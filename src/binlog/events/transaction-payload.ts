/**
 * TRANSACTION_PAYLOAD_EVENT (MySQL 8.0.20+, binlog_transaction_compression):
 * a whole transaction's events, compressed. The header is a list of
 * (type, length, value) packed integers ended by type 0; the events inside
 * have no CRC32 trailer (`Transaction_payload_event`).
 */
import { decompress } from 'fzstd';
import { SalvageError } from '../../errors.js';
import type { ByteReader } from '../byte-reader.js';
import type { EventHeader } from './header.js';

export const PayloadCompression = { ZSTD: 0, NONE: 255 } as const;

export interface TransactionPayloadEvent {
  readonly kind: 'transaction-payload';
  readonly header: EventHeader;
  readonly compression: number;
  /** The inner events, uncompressed, back to back (each a header + body, no checksum). */
  readonly events: Buffer;
}

/** Events, and so payloads, are capped at 1 GiB by the server (max_allowed_packet). */
const MAX_PAYLOAD = 1024 * 1024 * 1024;
const FIELD_END = 0;
const FIELD_SIZE = 1;
const FIELD_COMPRESSION = 2;
const FIELD_UNCOMPRESSED_SIZE = 3;

export function decodeTransactionPayload(r: ByteReader, header: EventHeader): TransactionPayloadEvent {
  let size: number | undefined;
  let compression: number = PayloadCompression.NONE;
  let uncompressedSize: number | undefined;
  for (;;) {
    const type = r.packedInt();
    if (type === FIELD_END) break;
    const value = r.sub(r.packedInt());
    if (type === FIELD_SIZE) size = value.packedInt();
    else if (type === FIELD_COMPRESSION) compression = value.packedInt();
    else if (type === FIELD_UNCOMPRESSED_SIZE) uncompressedSize = value.packedInt();
  }
  const data = size === undefined ? r.rest() : r.bytes(size);
  let events: Buffer;
  if (compression === PayloadCompression.NONE) {
    // A copy: the source's read buffer is reused once the next event is read.
    events = Buffer.from(data);
  } else if (compression === PayloadCompression.ZSTD) {
    if (uncompressedSize !== undefined && uncompressedSize > MAX_PAYLOAD) {
      throw r.corrupt(
        `TRANSACTION_PAYLOAD claims ${uncompressedSize} bytes uncompressed, more than a binlog event can hold`,
      );
    }
    try {
      const out = decompress(
        data,
        uncompressedSize === undefined ? undefined : new Uint8Array(uncompressedSize),
      );
      events = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    } catch (error) {
      throw r.corrupt(`TRANSACTION_PAYLOAD does not decompress: ${(error as Error).message}`);
    }
    if (uncompressedSize !== undefined && events.length !== uncompressedSize) {
      throw r.corrupt(
        `TRANSACTION_PAYLOAD decompresses to ${events.length} bytes, its header says ${uncompressedSize}`,
      );
    }
  } else {
    throw new SalvageError(
      'BINLOG_UNSUPPORTED',
      `TRANSACTION_PAYLOAD compressed with unknown algorithm ${compression}`,
      {
        context: r.context,
      },
    );
  }
  return { kind: 'transaction-payload', header, compression, events };
}
