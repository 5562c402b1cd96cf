/**
 * CRC-32 (IEEE 802.3, as zlib computes it) over binlog events: zlib's own
 * (Node 20.15 and later) for spans long enough to repay the call and its
 * view, twice as fast on large row images; below that, and on older Node,
 * this table-driven slicing-by-8 loop.
 */
import zlib from 'node:zlib';

/** zlib.crc32(data, crc), when this Node has it. */
const native = (zlib as { crc32?: (data: Uint8Array, crc?: number) => number }).crc32;
/** From this many bytes on zlib's CRC beats the loop, the view it needs included (measured: about even at 512). */
const NATIVE_FROM = 768;

const TABLES = buildTables();
/** Word reads assume little-endian; a big-endian host takes the byte loop. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
}

/**
 * A 32-bit view of the whole buffer, kept for the next call: events come as
 * views into one reused read buffer, and a view per event was garbage.
 */
let lastWords: Uint32Array | undefined;

function wordsOf(buffer: ArrayBufferLike): Uint32Array {
  if (lastWords === undefined || lastWords.buffer !== buffer) {
    lastWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return lastWords;
}

/**
 * CRC-32 of `bytes[start..end)`, continuing from `crc` (0 for a fresh
 * checksum). The aligned middle is read as 32-bit words (little-endian
 * hosts: x86, ARM), eight bytes per step.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  if (native !== undefined && end - start >= NATIVE_FROM)
    return native(bytes.subarray(start, end), crc) >>> 0;
  const t = TABLES;
  let c = ~crc;
  let i = start;
  const base = bytes.byteOffset;
  while (i < end && ((base + i) & 3) !== 0)
    c = (t[(c ^ (bytes[i++] as number)) & 0xff] as number) ^ (c >>> 8);
  const words = wordsOf(bytes.buffer);
  const pairs = LITTLE_ENDIAN ? ((end - i) >>> 2) & ~1 : 0;
  const first = (base + i) >>> 2;
  for (let w = first; w < first + pairs; w += 2) {
    const a = c ^ (words[w] as number);
    const b = words[w + 1] as number;
    c =
      (t[1792 + (a & 0xff)] as number) ^
      (t[1536 + ((a >>> 8) & 0xff)] as number) ^
      (t[1280 + ((a >>> 16) & 0xff)] as number) ^
      (t[1024 + (a >>> 24)] as number) ^
      (t[768 + (b & 0xff)] as number) ^
      (t[512 + ((b >>> 8) & 0xff)] as number) ^
      (t[256 + ((b >>> 16) & 0xff)] as number) ^
      (t[b >>> 24] as number);
  }
  i += pairs * 4;
  while (i < end) c = (t[(c ^ (bytes[i++] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
