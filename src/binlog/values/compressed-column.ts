/**
 * MariaDB column compression (`COMPRESSED` VARCHAR/BLOB/TEXT columns, binlog
 * types 141/140; field_comp.cc): an empty value is stored as is; otherwise a
 * header byte, 0 for data stored uncompressed after it, or 0x80 | (8 when
 * the stream is raw deflate, without the zlib wrapper) | L, then the original
 * length in L big-endian bytes, then the deflate stream.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import type { ByteReader } from '../byte-reader.js';

/** MariaDB's binlog type codes for compressed columns (`mysql_com.h`). */
export const MariadbCompressedType = {
  BLOB: 140,
  VARCHAR: 141,
} as const;

/** The original bytes of a compressed column value of `length` stored bytes. */
export function readCompressedColumn(r: ByteReader, length: number): Buffer {
  if (length === 0) return r.bytes(0);
  const value = r.sub(length);
  const head = value.u8();
  if (head === 0) return value.rest();
  const lengthBytes = head & 0x07;
  if ((head & 0x70) !== 0 || (head & 0x80) === 0 || lengthBytes === 0 || lengthBytes > 4) {
    throw value.corrupt(`compressed column value has an unknown header byte 0x${head.toString(16)}`);
  }
  const expected = value.uintBE(lengthBytes);
  const inflate = head & 0x08 ? inflateRawSync : inflateSync;
  let out: Buffer;
  try {
    out = inflate(value.rest(), { maxOutputLength: Math.max(expected, 1) });
  } catch (error) {
    throw value.corrupt(`compressed column value does not inflate: ${(error as Error).message}`);
  }
  if (out.length !== expected) {
    throw value.corrupt(
      `compressed column value inflates to ${out.length} bytes, its header says ${expected}`,
    );
  }
  return out;
}
