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

/**
 * The register every CRC-32 ends in (before its final inversion) over a
 * message followed by its own checksum, little-endian: an event read with
 * its trailer always ends in it.
 */
const RESIDUE = 0xdebb20e3;
const INIT = 0xffffffff;
const POLYNOMIAL = 0xedb88320;

/** a·b modulo the CRC polynomial, bits reflected as CRC registers hold them (x^0 is the top bit). */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  let factor = b;
  for (let bit = 0x80000000; bit !== 0; bit >>>= 1) {
    if (a & bit) {
      product ^= factor;
      if ((a & (bit - 1)) === 0) break;
    }
    factor = factor & 1 ? (factor >>> 1) ^ POLYNOMIAL : factor >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31. */
const POWERS = (() => {
  const powers = new Uint32Array(32);
  let p = 0x40000000; // x^1
  for (let k = 0; k < 32; k++) {
    powers[k] = p;
    p = multiplyModP(p, p);
  }
  return powers;
})();

/** x^(8n): what feeding n zero bytes multiplies a register by. */
function zeroBytesFactor(n: number): number {
  let p = 0x80000000; // x^0
  for (let k = 3, rest = n; rest > 0; rest >>>= 1, k++) {
    if (rest & 1) p = multiplyModP(POWERS[k & 31] as number, p);
  }
  return p;
}

/** Lengths below this have their factor (and, once met again, a table) cached. */
const CACHED_LENGTHS = 1 << 16;
/** Tables kept at most (4 KiB each); lengths beyond take the bitwise product. */
const MAX_TABLES = 512;
const factors = new Uint32Array(CACHED_LENGTHS);
const seen = new Uint8Array(CACHED_LENGTHS);
let shiftTables = new Map<number, Uint32Array>();

/**
 * What feeding `n` zero bytes does to a register: multiplying it by x^(8n),
 * through four byte-indexed tables for a length met before (events of one
 * kind mostly share a few lengths), else bitwise.
 */
function shiftRegister(register: number, n: number): number {
  if (n >= CACHED_LENGTHS) return multiplyModP(zeroBytesFactor(n), register);
  const table = shiftTables.get(n);
  if (table !== undefined) {
    return (
      (table[register & 0xff] as number) ^
      (table[256 + ((register >>> 8) & 0xff)] as number) ^
      (table[512 + ((register >>> 16) & 0xff)] as number) ^
      (table[768 + (register >>> 24)] as number)
    );
  }
  if (seen[n] === 0) {
    factors[n] = zeroBytesFactor(n);
    seen[n] = 1;
    return multiplyModP(factors[n] as number, register);
  }
  if (shiftTables.size >= MAX_TABLES) shiftTables = new Map();
  shiftTables.set(n, shiftTable(factors[n] as number));
  return shiftRegister(register, n);
}

/** Multiplying by `factor`, byte by byte of the register: the product is linear in it. */
function shiftTable(factor: number): Uint32Array {
  const table = new Uint32Array(1024);
  for (let byte = 0; byte < 4; byte++) {
    const row = byte * 256;
    for (let bit = 0; bit < 8; bit++) table[row + (1 << bit)] = multiplyModP(factor, 2 ** (8 * byte + bit));
    for (let value = 3; value < 256; value++) {
      const low = value & -value;
      if (value !== low)
        table[row + value] = (table[row + low] as number) ^ (table[row + (value ^ low)] as number);
    }
  }
  return table;
}

/**
 * Whether every event of a run holds its CRC32 trailer, from one CRC of the
 * whole run instead of one per event. `bytes[start..end)` holds whole events
 * with `gap` bytes of other data (a packet's framing) between them.
 *
 * A CRC over an event that includes its trailer ends in RESIDUE whatever the
 * event, so the register after each event follows from the one before and
 * the event's length alone (the register is linear in what it starts from).
 * The register zlib ends in over the whole run must then be the one
 * predicted. A damaged event changes it (a difference carried through later
 * bytes never vanishes), so the run holds only if each of its events does,
 * bar two damaged events whose differences cancel: one chance in 2^32, the
 * odds any CRC32 leaves. False also for a run that is not whole events
 * (then checked event by event, which names what is wrong); undefined when
 * this Node has no zlib CRC (before 20.15).
 */
export function eventsHoldChecksums(bytes: Buffer, start: number, end: number, gap = 0): boolean | undefined {
  if (native === undefined) return undefined;
  const t = TABLES;
  let register = INIT;
  let at = start;
  let last = start;
  while (at < end) {
    for (let i = last; i < at; i++)
      register = (t[(register ^ (bytes[i] as number)) & 0xff] as number) ^ (register >>> 8);
    if (at + 13 > end) return false;
    const length = bytes.readUInt32LE(at + 9);
    if (length < 23 || at + length > end) return false;
    register = (shiftRegister((register ^ INIT) >>> 0, length) ^ RESIDUE) >>> 0;
    last = at + length;
    at = last + gap;
  }
  return native(bytes.subarray(start, last)) >>> 0 === ~register >>> 0;
}
