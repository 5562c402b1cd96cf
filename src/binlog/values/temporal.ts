/**
 * Date and time columns, printed exactly as the server prints them:
 * `YYYY-MM-DD`, `[-]HH:MM:SS`, `YYYY-MM-DD HH:MM:SS`, with as many fractional
 * digits as the column's fsp. Zero dates and zero-in-part dates
 * (`0000-00-00`, `2024-00-13`) are printed as stored, never "repaired".
 * TIMESTAMP columns hold seconds since the epoch; they are printed in UTC.
 *
 * Layouts: my_time.cc `my_time_packed_from_binary`,
 * `my_datetime_packed_from_binary`, `my_timestamp_from_binary` (the "2"
 * types, big-endian with an offset), and `Field_date`, `Field_time`,
 * `Field_datetime`, `Field_timestamp` for the old little-endian ones.
 */
import type { ByteReader } from '../byte-reader.js';

const TWO_POW_24 = 0x1000000;
const TIME2_OFFSET = 0x800000;
const TIME2_FULL_OFFSET = 0x800000000000;
const DATETIME2_OFFSET = 0x8000000000;
const SECONDS_PER_DAY = 86400;

/** Bytes of fractional seconds stored after a TIME2/DATETIME2/TIMESTAMP2 for each fsp. */
function fractionBytes(fsp: number): number {
  return (fsp + 1) >> 1;
}

/** DATE / NEWDATE: 3 bytes little-endian, day in bits 0–4, month 5–8, year above. */
export function readDate(r: ByteReader): string {
  const packed = r.u24();
  return formatDate(packed >>> 9, (packed >>> 5) & 15, packed & 31);
}

/** Old TIME (type 11): 3 bytes little-endian signed, the number HHMMSS. */
export function readTime(r: ByteReader): string {
  const raw = r.i24();
  const negative = raw < 0;
  const hhmmss = negative ? -raw : raw;
  return formatTime(negative, Math.floor(hhmmss / 10000), Math.floor(hhmmss / 100) % 100, hhmmss % 100, 0, 0);
}

/** TIME2 (type 19). */
export function readTime2(r: ByteReader, fsp: number): string {
  const fractionSize = fractionBytes(fsp);
  if (fractionSize === 3) return formatPackedTime(r.uintBE(6) - TIME2_FULL_OFFSET, fsp);
  let integer = r.uintBE(3) - TIME2_OFFSET;
  if (fractionSize === 0) return formatPackedTime(integer * TWO_POW_24, fsp);
  // Negative times store the fraction complemented (0x100 - f / 0x10000 - f) so
  // that bytes sort like values; the integer part was rounded down one second.
  let fraction = r.uintBE(fractionSize);
  if (integer < 0 && fraction !== 0) {
    integer++;
    fraction -= 2 ** (8 * fractionSize);
  }
  return formatPackedTime(integer * TWO_POW_24 + fraction * (fractionSize === 1 ? 10000 : 100), fsp);
}

/** Old DATETIME (type 12): 8 bytes little-endian, the number YYYYMMDDHHMMSS. */
export function readDatetime(r: ByteReader): string {
  const value = r.u64Number();
  const date = Math.floor(value / 1_000_000);
  const time = value % 1_000_000;
  return formatDateTime(
    Math.floor(date / 10000),
    Math.floor(date / 100) % 100,
    date % 100,
    Math.floor(time / 10000),
    Math.floor(time / 100) % 100,
    time % 100,
    0,
    0,
  );
}

/** DATETIME2 (type 18). */
export function readDatetime2(r: ByteReader, fsp: number): string {
  const integer = r.uintBE(5) - DATETIME2_OFFSET;
  return formatPackedDateTime(integer, readFraction(r, fsp), fsp);
}

/** Old TIMESTAMP (type 7): 4 bytes little-endian seconds since the epoch. */
export function readTimestamp(r: ByteReader): string {
  return formatTimestamp(r.u32(), 0, 0);
}

/** TIMESTAMP2 (type 17): 4 bytes big-endian seconds, then the fraction. */
export function readTimestamp2(r: ByteReader, fsp: number): string {
  const seconds = r.uintBE(4);
  return formatTimestamp(seconds, readFraction(r, fsp), fsp);
}

/** YEAR: one byte, 0 for the zero year `0000`, else the year minus 1900. */
export function readYear(r: ByteReader): number {
  const byte = r.u8();
  return byte === 0 ? 0 : 1900 + byte;
}

/**
 * The in-memory "packed" longlong forms (`TIME_to_longlong_*_packed`) that
 * binary JSON stores for its DATE/DATETIME/TIMESTAMP opaque values.
 * JSON prints them with six fractional digits (DATE: none).
 */
export function formatPackedDateTimeValue(packed: bigint, withTime: boolean): string {
  const magnitude = packed < 0n ? -packed : packed;
  const integer = Number(magnitude >> 24n);
  const micros = Number(magnitude & 0xffffffn);
  const text = formatPackedDateTime(integer, micros, 6);
  return withTime ? text : text.slice(0, 10);
}

/** The packed longlong form of a TIME, as binary JSON stores it. */
export function formatPackedTimeValue(packed: bigint): string {
  return formatPackedTime(Number(packed), 6);
}

/** Microseconds from the 0–3 fraction bytes of a DATETIME2/TIMESTAMP2. */
function readFraction(r: ByteReader, fsp: number): number {
  const size = fractionBytes(fsp);
  if (size === 0) return 0;
  return r.uintBE(size) * (size === 1 ? 10000 : size === 2 ? 100 : 1);
}

/** A TIME packed as integer part << 24 + microseconds, negative for negative times. */
function formatPackedTime(packed: number, fsp: number): string {
  const negative = packed < 0;
  const magnitude = negative ? -packed : packed;
  const hms = Math.floor(magnitude / TWO_POW_24);
  const micros = magnitude % TWO_POW_24;
  return formatTime(negative, (hms >> 12) % 1024, (hms >> 6) & 63, hms & 63, micros, fsp);
}

/** The 40-bit DATETIME2 integer part: year*13+month (17 bits), day (5), hour (5), minute (6), second (6). */
function formatPackedDateTime(integer: number, micros: number, fsp: number): string {
  const yearMonth = Math.floor(integer / 2 ** 22) % 2 ** 17;
  const dayHourMinuteSecond = integer % 2 ** 22;
  return formatDateTime(
    Math.floor(yearMonth / 13),
    yearMonth % 13,
    dayHourMinuteSecond >> 17,
    (dayHourMinuteSecond >> 12) & 31,
    (dayHourMinuteSecond >> 6) & 63,
    dayHourMinuteSecond & 63,
    micros,
    fsp,
  );
}

/** Seconds since the epoch as a UTC date-time; 0 is the zero timestamp `0000-00-00 00:00:00`. */
function formatTimestamp(seconds: number, micros: number, fsp: number): string {
  if (seconds === 0) return formatDateTime(0, 0, 0, 0, 0, 0, micros, fsp);
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  const secondOfDay = seconds - days * SECONDS_PER_DAY;
  // Civil date from days since 1970-01-01 (proleptic Gregorian, eras of 400 years).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return formatDateTime(
    year,
    month,
    day,
    Math.floor(secondOfDay / 3600),
    Math.floor(secondOfDay / 60) % 60,
    secondOfDay % 60,
    micros,
    fsp,
  );
}

function formatDate(year: number, month: number, day: number): string {
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}`;
}

function formatDateTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  micros: number,
  fsp: number,
): string {
  return `${formatDate(year, month, day)} ${pad2(hour)}:${pad2(minute)}:${pad2(second)}${formatFraction(micros, fsp)}`;
}

function formatTime(
  negative: boolean,
  hour: number,
  minute: number,
  second: number,
  micros: number,
  fsp: number,
): string {
  const sign = negative ? '-' : '';
  return `${sign}${pad2(hour)}:${pad2(minute)}:${pad2(second)}${formatFraction(micros, fsp)}`;
}

function formatFraction(micros: number, fsp: number): string {
  if (fsp <= 0) return '';
  return `.${micros.toString().padStart(6, '0').slice(0, fsp)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n >= 1000 ? `${n}` : n.toString().padStart(4, '0');
}
