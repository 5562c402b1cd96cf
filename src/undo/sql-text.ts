/**
 * SQL written straight into UTF-8 bytes, the form the script file holds:
 * a statement's pieces and its values' bytes are copied once, into slabs of
 * 1 MiB shared by many statements, instead of becoming strings that are
 * joined per statement, joined again per piece of the file and encoded at
 * the end (an undo writes tens of thousands of statements; this is about a
 * third faster, and the text stays out of the garbage-collected heap).
 */

/** A statement's bytes: `slab[start..end)`. */
export interface SqlBytes {
  readonly slab: Buffer;
  readonly start: number;
  readonly end: number;
}

const SLAB_BYTES = 2 ** 20;
/** What opens a `_binary'...'` literal (a quote closes it). */
export const BINARY_OPEN = "_binary'";
const BINARY_PREFIX = Buffer.from(BINARY_OPEN, 'latin1');
const QUOTE = 0x27;
/** 1 for each byte a `_binary'...'` literal may hold as is: printable ASCII other than quote and backslash. */
const PLAIN_BYTE = new Uint8Array(256);
for (let byte = 0x20; byte <= 0x7e; byte++) PLAIN_BYTE[byte] = 1;
PLAIN_BYTE[QUOTE] = 0;
PLAIN_BYTE[0x5c] = 0;

export class SqlWriter {
  #slab = Buffer.allocUnsafe(0);
  #pos = 0;
  /** Where the statement being written starts in the slab. */
  #start = 0;

  /** Starts a statement. */
  begin(): void {
    this.#start = this.#pos;
  }

  /** The statement written since begin(); the slab is never written there again. */
  end(): SqlBytes {
    return { slab: this.#slab, start: this.#start, end: this.#pos };
  }

  /** Drops what was written since begin() (a statement that turned out to change nothing). */
  discard(): void {
    this.#pos = this.#start;
  }

  /** Text, as UTF-8. */
  text(text: string): void {
    const length = text.length;
    this.#room(length);
    const slab = this.#slab;
    let pos = this.#pos;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        // Beyond ASCII: the rest through the encoder (a surrogate pair is never split here).
        const rest = text.slice(i);
        this.#pos = pos;
        this.#room(Buffer.byteLength(rest, 'utf8'));
        this.#pos += this.#slab.write(rest, this.#pos, 'utf8');
        return;
      }
      slab[pos++] = code;
    }
    this.#pos = pos;
  }

  /** A number's decimal text, as String() writes it. */
  number(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.text(String(value));
      return;
    }
    this.#room(17);
    const slab = this.#slab;
    let pos = this.#pos;
    let rest = value;
    if (rest < 0) {
      slab[pos++] = 0x2d;
      rest = -rest;
    }
    let digits = 1;
    for (let n = rest; n >= 10; n = Math.floor(n / 10)) digits++;
    pos += digits;
    this.#pos = pos;
    do {
      slab[--pos] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  /** A binary string, as literal.ts's bytesLiteral writes it: `_binary'bytes'` when isPlainBinary, else `X'..'`. */
  binary(bytes: Uint8Array): void {
    if (!isPlainBinary(bytes)) {
      this.hex(bytes);
      return;
    }
    const length = bytes.length;
    this.#room(length + BINARY_PREFIX.length + 1);
    const slab = this.#slab;
    slab.set(BINARY_PREFIX, this.#pos);
    slab.set(bytes, this.#pos + BINARY_PREFIX.length);
    this.#pos += BINARY_PREFIX.length + length;
    slab[this.#pos++] = QUOTE;
  }

  /** hexLiteral, written in place. */
  hex(bytes: Uint8Array): void {
    this.text(hexLiteral(bytes));
  }

  /** Room for `bytes` more: a statement that outgrows its slab moves to a new one, whole. */
  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#slab.length) return;
    const written = this.#pos - this.#start;
    const slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (written + bytes)));
    this.#slab.copy(slab, 0, this.#start, this.#pos);
    this.#slab = slab;
    this.#start = 0;
    this.#pos = written;
  }
}

/** Every byte is printable ASCII other than quote and backslash: `_binary'...'` holds them as they are. */
export function isPlainBinary(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (PLAIN_BYTE[bytes[i] as number] === 0) return false;
  return true;
}

/** `X'..'`: any bytes, under any sql_mode. */
export function hexLiteral(bytes: Uint8Array): string {
  return `X'${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}'`;
}

/** The statement's SQL as text. */
export function sqlText(bytes: SqlBytes): string {
  return bytes.slab.toString('utf8', bytes.start, bytes.end);
}
