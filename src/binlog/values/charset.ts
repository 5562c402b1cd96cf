/**
 * Character sets of text columns, by the collation id a TABLE_MAP carries
 * (DEFAULT_CHARSET / COLUMN_CHARSET optional metadata), and the decoding of
 * column bytes to text.
 *
 * Exactness rule: a value becomes a string only when its bytes are valid in
 * its character set and the decoder is known to map them like the server
 * does; otherwise the bytes are kept. The binary collation (63) always keeps
 * bytes.
 */
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';

/** The collation id of the `binary` pseudo character set: the column holds bytes, not text. */
export const BINARY_COLLATION = 63;

/**
 * Collation id ranges → character set. Ids 1–1270 and 2048+ are MariaDB
 * 10.11's (`information_schema.COLLATION_CHARACTER_SET_APPLICABILITY`); 76,
 * 248–250 and 255–323 are MySQL 8's (utf8mb3_tolower_ci, gb18030, the
 * utf8mb4 *_0900_* collations). Both servers agree on the ids they share.
 */
const COLLATION_RANGES: readonly (readonly [number, number, string])[] = [
  [1, 1, 'big5'],
  [2, 2, 'latin2'],
  [3, 3, 'dec8'],
  [4, 4, 'cp850'],
  [5, 5, 'latin1'],
  [6, 6, 'hp8'],
  [7, 7, 'koi8r'],
  [8, 8, 'latin1'],
  [9, 9, 'latin2'],
  [10, 10, 'swe7'],
  [11, 11, 'ascii'],
  [12, 12, 'ujis'],
  [13, 13, 'sjis'],
  [14, 14, 'cp1251'],
  [15, 15, 'latin1'],
  [16, 16, 'hebrew'],
  [18, 18, 'tis620'],
  [19, 19, 'euckr'],
  [20, 20, 'latin7'],
  [21, 21, 'latin2'],
  [22, 22, 'koi8u'],
  [23, 23, 'cp1251'],
  [24, 24, 'gb2312'],
  [25, 25, 'greek'],
  [26, 26, 'cp1250'],
  [27, 27, 'latin2'],
  [28, 28, 'gbk'],
  [29, 29, 'cp1257'],
  [30, 30, 'latin5'],
  [31, 31, 'latin1'],
  [32, 32, 'armscii8'],
  [33, 33, 'utf8mb3'],
  [34, 34, 'cp1250'],
  [35, 35, 'ucs2'],
  [36, 36, 'cp866'],
  [37, 37, 'keybcs2'],
  [38, 38, 'macce'],
  [39, 39, 'macroman'],
  [40, 40, 'cp852'],
  [41, 42, 'latin7'],
  [43, 43, 'macce'],
  [44, 44, 'cp1250'],
  [45, 46, 'utf8mb4'],
  [47, 49, 'latin1'],
  [50, 52, 'cp1251'],
  [53, 53, 'macroman'],
  [54, 55, 'utf16'],
  [56, 56, 'utf16le'],
  [57, 57, 'cp1256'],
  [58, 59, 'cp1257'],
  [60, 61, 'utf32'],
  [62, 62, 'utf16le'],
  [63, 63, 'binary'],
  [64, 64, 'armscii8'],
  [65, 65, 'ascii'],
  [66, 66, 'cp1250'],
  [67, 67, 'cp1256'],
  [68, 68, 'cp866'],
  [69, 69, 'dec8'],
  [70, 70, 'greek'],
  [71, 71, 'hebrew'],
  [72, 72, 'hp8'],
  [73, 73, 'keybcs2'],
  [74, 74, 'koi8r'],
  [75, 75, 'koi8u'],
  [76, 76, 'utf8mb3'],
  [77, 77, 'latin2'],
  [78, 78, 'latin5'],
  [79, 79, 'latin7'],
  [80, 80, 'cp850'],
  [81, 81, 'cp852'],
  [82, 82, 'swe7'],
  [83, 83, 'utf8mb3'],
  [84, 84, 'big5'],
  [85, 85, 'euckr'],
  [86, 86, 'gb2312'],
  [87, 87, 'gbk'],
  [88, 88, 'sjis'],
  [89, 89, 'tis620'],
  [90, 90, 'ucs2'],
  [91, 91, 'ujis'],
  [92, 93, 'geostd8'],
  [94, 94, 'latin1'],
  [95, 96, 'cp932'],
  [97, 98, 'eucjpms'],
  [99, 99, 'cp1250'],
  [101, 124, 'utf16'],
  [128, 151, 'ucs2'],
  [159, 159, 'ucs2'],
  [160, 183, 'utf32'],
  [192, 215, 'utf8mb3'],
  [223, 223, 'utf8mb3'],
  [224, 247, 'utf8mb4'],
  [248, 250, 'gb18030'],
  [255, 323, 'utf8mb4'],
  [576, 578, 'utf8mb3'],
  [608, 610, 'utf8mb4'],
  [640, 642, 'ucs2'],
  [672, 674, 'utf16'],
  [736, 738, 'utf32'],
  [1025, 1025, 'big5'],
  [1027, 1027, 'dec8'],
  [1028, 1028, 'cp850'],
  [1030, 1030, 'hp8'],
  [1031, 1031, 'koi8r'],
  [1032, 1032, 'latin1'],
  [1033, 1033, 'latin2'],
  [1034, 1034, 'swe7'],
  [1035, 1035, 'ascii'],
  [1036, 1036, 'ujis'],
  [1037, 1037, 'sjis'],
  [1040, 1040, 'hebrew'],
  [1042, 1042, 'tis620'],
  [1043, 1043, 'euckr'],
  [1046, 1046, 'koi8u'],
  [1048, 1048, 'gb2312'],
  [1049, 1049, 'greek'],
  [1050, 1050, 'cp1250'],
  [1052, 1052, 'gbk'],
  [1054, 1054, 'latin5'],
  [1056, 1056, 'armscii8'],
  [1057, 1057, 'utf8mb3'],
  [1059, 1059, 'ucs2'],
  [1060, 1060, 'cp866'],
  [1061, 1061, 'keybcs2'],
  [1062, 1062, 'macce'],
  [1063, 1063, 'macroman'],
  [1064, 1064, 'cp852'],
  [1065, 1065, 'latin7'],
  [1067, 1067, 'macce'],
  [1069, 1070, 'utf8mb4'],
  [1071, 1071, 'latin1'],
  [1074, 1075, 'cp1251'],
  [1077, 1077, 'macroman'],
  [1078, 1079, 'utf16'],
  [1080, 1080, 'utf16le'],
  [1081, 1081, 'cp1256'],
  [1082, 1083, 'cp1257'],
  [1084, 1085, 'utf32'],
  [1086, 1086, 'utf16le'],
  [1088, 1088, 'armscii8'],
  [1089, 1089, 'ascii'],
  [1090, 1090, 'cp1250'],
  [1091, 1091, 'cp1256'],
  [1092, 1092, 'cp866'],
  [1093, 1093, 'dec8'],
  [1094, 1094, 'greek'],
  [1095, 1095, 'hebrew'],
  [1096, 1096, 'hp8'],
  [1097, 1097, 'keybcs2'],
  [1098, 1098, 'koi8r'],
  [1099, 1099, 'koi8u'],
  [1101, 1101, 'latin2'],
  [1102, 1102, 'latin5'],
  [1103, 1103, 'latin7'],
  [1104, 1104, 'cp850'],
  [1105, 1105, 'cp852'],
  [1106, 1106, 'swe7'],
  [1107, 1107, 'utf8mb3'],
  [1108, 1108, 'big5'],
  [1109, 1109, 'euckr'],
  [1110, 1110, 'gb2312'],
  [1111, 1111, 'gbk'],
  [1112, 1112, 'sjis'],
  [1113, 1113, 'tis620'],
  [1114, 1114, 'ucs2'],
  [1115, 1115, 'ujis'],
  [1116, 1117, 'geostd8'],
  [1119, 1120, 'cp932'],
  [1121, 1122, 'eucjpms'],
  [1125, 1125, 'utf16'],
  [1147, 1147, 'utf16'],
  [1152, 1152, 'ucs2'],
  [1174, 1174, 'ucs2'],
  [1184, 1184, 'utf32'],
  [1206, 1206, 'utf32'],
  [1216, 1216, 'utf8mb3'],
  [1238, 1238, 'utf8mb3'],
  [1248, 1248, 'utf8mb4'],
  [1270, 1270, 'utf8mb4'],
  [2048, 2215, 'utf8mb3'],
  [2232, 2247, 'utf8mb3'],
  [2304, 2471, 'utf8mb4'],
  [2488, 2503, 'utf8mb4'],
  [2560, 2727, 'ucs2'],
  [2744, 2759, 'ucs2'],
  [2816, 2983, 'utf16'],
  [3000, 3015, 'utf16'],
  [3072, 3239, 'utf32'],
  [3256, 3271, 'utf32'],
];

const charsetById: string[] = [];
for (const [first, last, charset] of COLLATION_RANGES) {
  for (let id = first; id <= last; id++) charsetById[id] = charset;
}

/** The lowest collation id of each character set: any id of a set decodes its bytes the same way. */
const firstCollationOf = new Map<string, number>();
for (const [first, , charset] of COLLATION_RANGES) {
  if (!firstCollationOf.has(charset)) firstCollationOf.set(charset, first);
}

/** A collation id of a character set named as information_schema names it (utf8 = utf8mb3). */
export function collationOfCharset(charset: string): number | undefined {
  const name = charset.toLowerCase();
  return firstCollationOf.get(name === 'utf8' ? 'utf8mb3' : name);
}

/** The character set of a collation id, or undefined when the id is unknown. */
export function charsetOfCollation(collation: number): string | undefined {
  return charsetById[collation];
}

/**
 * WHATWG decoders whose mapping equals the server's for every byte sequence
 * the server accepts in that character set (cp932 is windows-31j on both
 * sides). latin1 has its own table below. Character sets whose
 * server tables differ from the WHATWG ones in places (sjis, ujis, big5,
 * gbk, greek, koi8u, macroman, cp1256, tis620...) are left out on purpose:
 * their values stay bytes rather than risk a wrong character.
 */
const DECODER_LABELS: Readonly<Record<string, string>> = {
  latin2: 'iso-8859-2',
  latin7: 'iso-8859-13',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1257: 'windows-1257',
  cp866: 'ibm866',
  koi8r: 'koi8-r',
  ucs2: 'utf-16be',
  utf16: 'utf-16be',
  utf16le: 'utf-16le',
  euckr: 'euc-kr',
  cp932: 'shift_jis',
};

const decoders = new Map<string, TextDecoder>();

function decoderFor(charset: string): TextDecoder | undefined {
  let decoder = decoders.get(charset);
  if (decoder === undefined) {
    const label = DECODER_LABELS[charset];
    if (label === undefined) return undefined;
    decoder = new TextDecoder(label, { fatal: true, ignoreBOM: true });
    decoders.set(charset, decoder);
  }
  return decoder;
}

/**
 * The text of `bytes` in the character set of `collation`, or a copy of the
 * bytes when the collation is binary or unknown, or the bytes are not valid
 * text in that set (the server would not have stored them as such, so the
 * bytes are the only exact answer).
 */
export function decodeText(
  bytes: Buffer,
  collation: number | undefined,
  lasting = false,
): string | Uint8Array {
  if (collation === undefined || collation === BINARY_COLLATION) return keep(bytes, lasting);
  const charset = charsetById[collation];
  switch (charset) {
    case 'utf8mb4':
    case 'utf8mb3':
      return isUtf8(bytes) ? bytes.toString('utf8') : keep(bytes, lasting);
    case 'ascii':
      return isAscii(bytes) ? bytes.toString('latin1') : keep(bytes, lasting);
    case 'latin1':
      return decodeLatin1(bytes);
    case 'utf32':
      return decodeUtf32(bytes) ?? keep(bytes, lasting);
    case undefined:
      return keep(bytes, lasting);
  }
  const decoder = decoderFor(charset);
  if (decoder === undefined) return keep(bytes, lasting);
  try {
    return decoder.decode(bytes);
  } catch {
    return keep(bytes, lasting);
  }
}

/** Bytes kept as a value: a copy, unless they come from a lasting buffer (see ByteReader), whose view will do. */
export function keep(bytes: Buffer, lasting: boolean): Uint8Array {
  return lasting ? bytes : copyBytes(bytes);
}

/**
 * A copy, so a value never pins or aliases the event buffer it came from.
 * Small values share slabs: one ArrayBuffer per value made allocation and
 * garbage collection the main cost of holding many rows (undo).
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > SLAB_VALUE_MAX) return new Uint8Array(bytes);
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const copy = slab.subarray(slabUsed, slabUsed + n);
  copy.set(bytes);
  slabUsed += n;
  return copy;
}

const SLAB_SIZE = 64 * 1024;
const SLAB_VALUE_MAX = 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * MySQL latin1 is cp1252, with its five unassigned bytes (0x81, 0x8d, 0x8f,
 * 0x90, 0x9d) mapped to the C1 controls of the same code. Node's
 * TextDecoder('windows-1252') decodes 0x80–0x9f as ISO-8859-1 in Node 20, so
 * the 32 bytes that differ from ISO-8859-1 are mapped here.
 */
const CP1252_HIGH_CONTROLS =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeLatin1(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  let firstC1 = -1;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte >= 0x80 && byte <= 0x9f) {
      firstC1 = i;
      break;
    }
  }
  if (firstC1 < 0) return text;
  let out = text.slice(0, firstC1);
  for (let i = firstC1; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    out += byte >= 0x80 && byte <= 0x9f ? CP1252_HIGH_CONTROLS[byte - 0x80] : text[i];
  }
  return out;
}

function isAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 0x7f) return false;
  return true;
}

/** UTF-32 big-endian (MySQL utf32); undefined when a code point is invalid. */
function decodeUtf32(bytes: Buffer): string | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  let text = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const codePoint = bytes.readUInt32BE(i);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return undefined;
    text += String.fromCodePoint(codePoint);
  }
  return text;
}
