/**
 * DECIMAL (NEWDECIMAL, type 246) in the server's binary form (`decimal2bin` in
 * strings/decimal.c): digits in groups of nine stored as 4-byte big-endian
 * integers, a leading and a trailing partial group of 1–4 bytes, the sign in
 * the top bit of the first byte (set = positive) and every byte inverted for
 * negative numbers. Decoded to the exact text the server prints.
 */
import type { ByteReader } from '../byte-reader.js';

const DIGITS_PER_GROUP = 9;
/** Bytes used by a partial group of n digits (`dig2bytes`). */
const BYTES_FOR_DIGITS = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4] as const;
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9] as const;

/** Size in bytes of a DECIMAL(precision, scale) value in a row image. */
export function decimalBinarySize(precision: number, scale: number): number {
  const integerDigits = precision - scale;
  return (
    Math.floor(integerDigits / DIGITS_PER_GROUP) * 4 +
    BYTES_FOR_DIGITS[integerDigits % DIGITS_PER_GROUP]! +
    Math.floor(scale / DIGITS_PER_GROUP) * 4 +
    BYTES_FOR_DIGITS[scale % DIGITS_PER_GROUP]!
  );
}

/**
 * Reads a DECIMAL(precision, scale) and returns the server's text: no leading
 * zeros ("0" when the integer part is empty), exactly `scale` fractional
 * digits. A negative zero (all digits zero, sign bit negative — only written
 * by old servers) is printed as zero: it is the same number.
 */
export function readDecimal(r: ByteReader, precision: number, scale: number): string {
  if (precision < 1 || scale > precision) {
    throw r.corrupt(`DECIMAL(${precision},${scale}) is not a valid precision and scale`);
  }
  r.need(decimalBinarySize(precision, scale));
  const negative = ((r.buffer[r.pos] as number) & 0x80) === 0;
  let first = true;
  const readGroup = (byteCount: number, digits: number): string => {
    const full = 2 ** (8 * byteCount) - 1;
    let value = r.uintBE(byteCount);
    if (first) {
      // The sign bit lives in the first byte of the whole value, whichever group that is.
      value -= 0x80 * 2 ** (8 * (byteCount - 1));
      if (value < 0) value += 2 ** (8 * byteCount);
      first = false;
    }
    if (negative) value = full - value;
    if (value >= POWERS_OF_TEN[digits]!) {
      throw r.corrupt(
        `DECIMAL(${precision},${scale}) has an invalid digit group ${value}: the row image is damaged`,
      );
    }
    return value.toString().padStart(digits, '0');
  };

  const integerDigits = precision - scale;
  const leadingDigits = integerDigits % DIGITS_PER_GROUP;
  let integerPart = '';
  if (leadingDigits > 0) integerPart += readGroup(BYTES_FOR_DIGITS[leadingDigits]!, leadingDigits);
  for (let g = Math.floor(integerDigits / DIGITS_PER_GROUP); g > 0; g--) integerPart += readGroup(4, 9);
  let firstSignificant = 0;
  while (firstSignificant < integerPart.length && integerPart.charCodeAt(firstSignificant) === 0x30) {
    firstSignificant++;
  }
  integerPart = firstSignificant === integerPart.length ? '0' : integerPart.slice(firstSignificant);

  let fraction = '';
  for (let g = Math.floor(scale / DIGITS_PER_GROUP); g > 0; g--) fraction += readGroup(4, 9);
  const trailingDigits = scale % DIGITS_PER_GROUP;
  if (trailingDigits > 0) fraction += readGroup(BYTES_FOR_DIGITS[trailingDigits]!, trailingDigits);

  const text = scale > 0 ? `${integerPart}.${fraction}` : integerPart;
  if (negative && !isZero(integerPart, fraction)) return `-${text}`;
  return text;
}

function isZero(integerPart: string, fraction: string): boolean {
  if (integerPart !== '0') return false;
  for (let i = 0; i < fraction.length; i++) if (fraction.charCodeAt(i) !== 0x30) return false;
  return true;
}
