/**
 * MariaDB's compressed events (QUERY_COMPRESSED, *_ROWS_COMPRESSED, from
 * log_bin_compress): one header byte 0x8L, then L bytes of the uncompressed
 * length, big-endian, then a zlib stream (`binlog_buf_uncompress`).
 */
import { inflateSync } from 'node:zlib';
import type { ByteReader } from './byte-reader.js';

export function inflateMariadbBlock(r: ByteReader): Buffer {
  const head = r.u8();
  const lengthBytes = head & 0x07;
  if ((head & 0x80) === 0 || lengthBytes === 0 || lengthBytes > 4) {
    throw r.corrupt(`bad compressed-event header byte 0x${head.toString(16)}`);
  }
  const expected = r.uintBE(lengthBytes);
  let out: Buffer;
  try {
    out = inflateSync(r.rest(), { maxOutputLength: Math.max(expected, 1) });
  } catch (error) {
    throw r.corrupt(`compressed event data does not inflate: ${(error as Error).message}`);
  }
  if (out.length !== expected) {
    throw r.corrupt(`compressed event inflates to ${out.length} bytes, its header says ${expected}`);
  }
  return out;
}
