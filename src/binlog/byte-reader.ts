/**
 * The one bounds-checked reader every binlog decoder uses. No decoder does
 * its own byte arithmetic: a short read here becomes a typed SalvageError
 * that names the file and position of the event being decoded.
 */
import { type ErrorCode, type ErrorContext, SalvageError } from '../errors.js';

const TWO_POW_32 = 0x1_0000_0000;

export class ByteReader {
  /** Absolute offset of the next byte to read in `buffer`. */
  pos: number;
  /** Absolute offset one past the last readable byte. */
  end: number;

  constructor(
    readonly buffer: Buffer,
    start = 0,
    end = buffer.length,
    /** Where the bytes come from, for error messages (file, position of the event). */
    readonly context: ErrorContext = {},
    /**
     * The buffer outlives the values read from it and is never written
     * again (an undo's kept row images): byte values may be views of it
     * instead of copies. False for read buffers, which are reused.
     */
    readonly lasting = false,
  ) {
    if (start < 0 || end > buffer.length || start > end) {
      throw new SalvageError(
        'INTERNAL',
        `ByteReader range ${start}..${end} outside a ${buffer.length}-byte buffer`,
      );
    }
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes can be read. */
  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) this.fail(n);
  }

  private fail(n: number, code: ErrorCode = 'BINLOG_CORRUPT'): never {
    throw new SalvageError(
      code,
      `event data ends early: needed ${n} byte(s) at offset ${this.pos}, only ${this.remaining} left`,
      { context: this.context },
    );
  }

  /** A typed error at the current offset, for decoders that find impossible values. */
  corrupt(message: string): SalvageError {
    return new SalvageError('BINLOG_CORRUPT', message, { context: this.context });
  }

  /** Zero-width integers read as 0; wider than the reader supports means the metadata is damaged. */
  private oddWidth(bytes: number, max: number): number {
    if (bytes === 0) return 0;
    throw this.corrupt(`cannot read a ${bytes}-byte integer at offset ${this.pos} (1 to ${max} supported)`);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    if (this.pos >= this.end) this.fail(1);
    return this.buffer[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.buffer.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const v = this.buffer.readUIntLE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buffer.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /**
   * Little-endian unsigned integer of 1..7 bytes, as a number (7 bytes, the
   * GTID commit timestamps, are exact up to 2^53).
   */
  uintLE(bytes: number): number {
    if (!(bytes >= 1 && bytes <= 7)) return this.oddWidth(bytes, 7);
    this.need(bytes);
    const v =
      bytes === 7
        ? this.buffer.readUIntLE(this.pos, 6) + (this.buffer[this.pos + 6] as number) * 2 ** 48
        : this.buffer.readUIntLE(this.pos, bytes);
    this.pos += bytes;
    return v;
  }

  /** Little-endian signed integer of 1..6 bytes, as a number. */
  intLE(bytes: number): number {
    if (!(bytes >= 1 && bytes <= 6)) return this.oddWidth(bytes, 6);
    this.need(bytes);
    const v = this.buffer.readIntLE(this.pos, bytes);
    this.pos += bytes;
    return v;
  }

  /** Big-endian unsigned integer of 1..6 bytes (DECIMAL, DATETIME2, TIME2 use big-endian). */
  uintBE(bytes: number): number {
    if (!(bytes >= 1 && bytes <= 6)) return this.oddWidth(bytes, 6);
    this.need(bytes);
    const v = this.buffer.readUIntBE(this.pos, bytes);
    this.pos += bytes;
    return v;
  }

  /** Big-endian signed integer of 1..6 bytes. */
  intBE(bytes: number): number {
    if (!(bytes >= 1 && bytes <= 6)) return this.oddWidth(bytes, 6);
    this.need(bytes);
    const v = this.buffer.readIntBE(this.pos, bytes);
    this.pos += bytes;
    return v;
  }

  i8(): number {
    const v = this.u8();
    return v > 0x7f ? v - 0x100 : v;
  }

  i16(): number {
    this.need(2);
    const v = this.buffer.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  i24(): number {
    return this.intLE(3);
  }

  i32(): number {
    this.need(4);
    const v = this.buffer.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buffer.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buffer.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * An unsigned 64-bit little-endian integer as a number; throws when it does
   * not fit exactly (positions, lengths and counts never legitimately do).
   */
  u64Number(): number {
    this.need(8);
    const lo = this.buffer.readUInt32LE(this.pos);
    const hi = this.buffer.readUInt32LE(this.pos + 4);
    if (hi > 0x1fffff)
      throw this.corrupt(`64-bit value at offset ${this.pos} is too large to be a length or position`);
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  f32(): number {
    this.need(4);
    const v = this.buffer.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buffer.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * MySQL packed (length-encoded) integer: < 0xfb in one byte, then 0xfc u16,
   * 0xfd u24, 0xfe u64. 0xfb (NULL) is not valid where a number is expected.
   */
  packedInt(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.u16();
    if (first === 0xfd) return this.u24();
    if (first === 0xfe) return this.u64Number();
    throw this.corrupt(
      `invalid length-encoded integer prefix 0x${first.toString(16)} at offset ${this.pos - 1}`,
    );
  }

  /**
   * MySQL serialization-library variable-length unsigned integer (GTID_TAGGED,
   * tagged PREVIOUS_GTIDS): the trailing one-bits of the first byte give the
   * byte count; 0xff means eight raw bytes follow.
   */
  varlenUint(): number {
    const first = this.buffer[this.pos];
    if (first === undefined || this.pos >= this.end) this.fail(1);
    if (first === 0xff) {
      this.pos += 1;
      return this.u64Number();
    }
    let count = 1;
    while ((first >> (count - 1)) & 1) count++;
    this.need(count);
    // Up to 8 bytes minus `count` flag bits: at most 56 value bits, which may exceed 2^53 only in corrupt data.
    let value = 0;
    for (let i = count - 1; i >= 0; i--) value = value * 256 + (this.buffer[this.pos + i] as number);
    this.pos += count;
    return Math.floor(value / 2 ** count);
  }

  /** Zig-zag signed variant of varlenUint. */
  varlenInt(): number {
    const u = this.varlenUint();
    return u % 2 === 0 ? u / 2 : -(u - 1) / 2 - 1;
  }

  /** The next `n` bytes as a view (no copy) into the underlying buffer. */
  bytes(n: number): Buffer {
    this.need(n);
    // A view made from the memory itself: Buffer.subarray's argument handling costs a third more, per value.
    const b = this.buffer;
    const v = Buffer.from(b.buffer, b.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }

  /** Everything up to the end of the readable range. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** A reader over the next `n` bytes, advancing this one past them. */
  sub(n: number): ByteReader {
    this.need(n);
    const r = new ByteReader(this.buffer, this.pos, this.pos + n, this.context);
    this.pos += n;
    return r;
  }

  string(n: number, encoding: BufferEncoding = 'utf8'): string {
    this.need(n);
    const v = this.buffer.toString(encoding, this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A string prefixed by its length in one byte. */
  string8(encoding: BufferEncoding = 'utf8'): string {
    return this.string(this.u8(), encoding);
  }

  /** A string prefixed by a packed-integer length. */
  packedString(encoding: BufferEncoding = 'utf8'): string {
    return this.string(this.packedInt(), encoding);
  }

  /** A NUL-terminated string (the NUL is consumed). */
  cString(encoding: BufferEncoding = 'utf8'): string {
    const nul = this.buffer.indexOf(0, this.pos);
    if (nul < 0 || nul >= this.end) throw this.corrupt(`unterminated string at offset ${this.pos}`);
    const v = this.buffer.toString(encoding, this.pos, nul);
    this.pos = nul + 1;
    return v;
  }

  /** A string filling `n` bytes, cut at the first NUL (fixed-width fields such as the server version). */
  fixedString(n: number, encoding: BufferEncoding = 'utf8'): string {
    this.need(n);
    let stop = this.buffer.indexOf(0, this.pos);
    if (stop < 0 || stop > this.pos + n) stop = this.pos + n;
    const v = this.buffer.toString(encoding, this.pos, stop);
    this.pos += n;
    return v;
  }

  /**
   * A bitmap of `bits` bits, least significant bit of the first byte first
   * (the order of rows-event column and NULL bitmaps).
   */
  bitmap(bits: number): Bitmap {
    return new Bitmap(this.bytes((bits + 7) >>> 3), bits);
  }

  /**
   * A bitmap of columns present: with every column there (binlog_row_image
   * FULL, nearly every rows event) one shared instance per width, not a new
   * bitmap and view per event.
   */
  presence(bits: number): Bitmap {
    if (!this.#uniform(bits, 0xff)) return this.bitmap(bits);
    this.pos += (bits + 7) >>> 3;
    return allSet(bits);
  }

  /**
   * A row image's NULL bitmap: with no NULL in the row (most rows) one
   * shared instance per width, not a new bitmap and view per row. Only its
   * first `bits` bits are read (MySQL sets the padding bits).
   */
  nulls(bits: number): Bitmap {
    if (!this.#uniform(bits, 0)) return this.bitmap(bits);
    this.pos += (bits + 7) >>> 3;
    return sharedBitmap(bits, 0);
  }

  /** Whether the next `bits` bits are all set (`byte` 0xff) or all clear (0). */
  #uniform(bits: number, byte: 0 | 0xff): boolean {
    this.need((bits + 7) >>> 3);
    const at = this.pos;
    const whole = bits >>> 3;
    for (let i = 0; i < whole; i++) if (this.buffer[at + i] !== byte) return false;
    const tail = bits & 7;
    if (tail === 0) return true;
    const mask = (1 << tail) - 1;
    return ((this.buffer[at + whole] as number) & mask) === (byte & mask);
  }
}

/** A little-endian-bit-order bitmap (column presence, NULL flags). */
export class Bitmap {
  /** count(), once asked: a rows event's bitmaps are counted several times each. */
  #count = -1;

  constructor(
    readonly bits: Uint8Array,
    readonly size: number,
  ) {}

  has(index: number): boolean {
    return (((this.bits[index >>> 3] as number) >>> (index & 7)) & 1) === 1;
  }

  /** How many bits are set. */
  count(): number {
    if (this.#count < 0) {
      let n = 0;
      for (let i = 0; i < this.size; i++) if (this.has(i)) n++;
      this.#count = n;
    }
    return this.#count;
  }
}

/** The shared bitmaps of one fill byte (all clear, all set), by width: a column count, at most 4096 of them. */
const SHARED_BITMAPS = new Map<number, Map<number, Bitmap>>([
  [0, new Map()],
  [0xff, new Map()],
]);

/** A bitmap of `bits` bits, every byte `fill`: one shared instance per width (bitmaps are never written). */
function sharedBitmap(bits: number, fill: 0 | 0xff): Bitmap {
  const byWidth = SHARED_BITMAPS.get(fill) as Map<number, Bitmap>;
  let shared = byWidth.get(bits);
  if (shared === undefined) {
    shared = new Bitmap(new Uint8Array((bits + 7) >>> 3).fill(fill), bits);
    byWidth.set(bits, shared);
  }
  return shared;
}

/** A bitmap of `bits` bits, all set, shared. */
export function allSet(bits: number): Bitmap {
  return sharedBitmap(bits, 0xff);
}

/**
 * `a` equals `b[start..end)`: a loop for the short values most comparisons
 * meet (a call into Buffer's native code costs more below 256 bytes).
 */
export function sameBytes(a: Uint8Array, b: Uint8Array, start = 0, end = b.length): boolean {
  if (a.length !== end - start) return false;
  if (a.length >= 256) return Buffer.from(a.buffer, a.byteOffset, a.byteLength).compare(b, start, end) === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}
