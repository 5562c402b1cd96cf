/**
 * MySQL partial JSON updates (PARTIAL_UPDATE_ROWS, binlog_row_value_options=
 * PARTIAL_JSON): instead of the new document, the after image holds a list
 * of `Json_diff`s — operation byte, path, and (except for REMOVE) a binary
 * JSON value. With the full old document at hand they are applied to give the
 * new one; without it they stay explicit so recovery can refuse.
 */
import type { ByteReader } from '../byte-reader.js';
import type { JsonDiff } from '../types.js';
import { type JsonNode, jsonText, readJsonBinary } from './json-binary.js';

/** One decoded diff, with the new value as a tree (to apply) — see `JsonDiff` for the public form. */
export interface JsonDiffOperation {
  readonly operation: JsonDiff['operation'];
  readonly path: string;
  readonly value?: JsonNode;
}

const OPERATIONS = ['replace', 'insert', 'remove'] as const;

/** Reads the diffs filling `length` bytes (`Json_diff_vector::read_binary`). */
export function readJsonDiffs(r: ByteReader, length: number): JsonDiffOperation[] {
  const diffs = r.sub(length);
  const out: JsonDiffOperation[] = [];
  while (diffs.remaining > 0) {
    const code = diffs.u8();
    const operation = OPERATIONS[code];
    if (operation === undefined) throw diffs.corrupt(`JSON diff operation ${code} is unknown`);
    const path = diffs.packedString();
    if (operation === 'remove') {
      out.push({ operation, path });
    } else {
      out.push({ operation, path, value: readJsonBinary(diffs, diffs.packedInt()) });
    }
  }
  return out;
}

/** The public form of decoded diffs: values as JSON text. */
export function describeJsonDiffs(diffs: readonly JsonDiffOperation[]): JsonDiff[] {
  return diffs.map((d) =>
    d.value === undefined
      ? { operation: d.operation, path: d.path }
      : { operation: d.operation, path: d.path, value: jsonText(d.value) },
  );
}

/**
 * Applies diffs in order to `document` (modified in place) the way the
 * server does (`apply_json_diffs`). Returns undefined when a path does not fit
 * the document — the binlog and the before image disagree, so the new
 * document is unknown.
 */
export function applyJsonDiffs(
  document: JsonNode,
  diffs: readonly JsonDiffOperation[],
): JsonNode | undefined {
  let root = document;
  for (const diff of diffs) {
    const legs = parseJsonPath(diff.path);
    if (legs === undefined) return undefined;
    if (legs.length === 0) {
      // Only REPLACE can address the whole document.
      if (diff.operation !== 'replace' || diff.value === undefined) return undefined;
      root = diff.value;
      continue;
    }
    const parent = walk(root, legs.slice(0, -1));
    const last = legs[legs.length - 1] as PathLeg;
    if (parent === undefined || !applyAt(parent, last, diff)) return undefined;
  }
  return root;
}

type PathLeg = { readonly key: string } | { readonly index: number; readonly fromEnd: boolean };

function walk(node: JsonNode, legs: readonly PathLeg[]): JsonNode | undefined {
  let current: JsonNode | undefined = node;
  for (const leg of legs) {
    if (current === undefined) return undefined;
    if ('key' in leg) {
      if (current.kind !== 'object') return undefined;
      const at = current.keys.indexOf(leg.key);
      current = at < 0 ? undefined : current.values[at];
    } else {
      if (current.kind !== 'array') return undefined;
      current = current.items[resolveIndex(leg, current.items.length)];
    }
  }
  return current;
}

function applyAt(parent: JsonNode, leg: PathLeg, diff: JsonDiffOperation): boolean {
  if ('key' in leg) {
    if (parent.kind !== 'object') return false;
    const at = parent.keys.indexOf(leg.key);
    switch (diff.operation) {
      case 'replace':
        if (at < 0 || diff.value === undefined) return false;
        parent.values[at] = diff.value;
        return true;
      case 'insert': {
        if (at >= 0 || diff.value === undefined) return false;
        const position = keyPosition(parent.keys, leg.key);
        parent.keys.splice(position, 0, leg.key);
        parent.values.splice(position, 0, diff.value);
        return true;
      }
      case 'remove':
        if (at < 0) return false;
        parent.keys.splice(at, 1);
        parent.values.splice(at, 1);
        return true;
    }
  }
  if (parent.kind !== 'array') return false;
  const index = resolveIndex(leg, parent.items.length);
  switch (diff.operation) {
    case 'replace':
      if (index >= parent.items.length || diff.value === undefined) return false;
      parent.items[index] = diff.value;
      return true;
    case 'insert':
      if (diff.value === undefined) return false;
      parent.items.splice(Math.min(index, parent.items.length), 0, diff.value);
      return true;
    case 'remove':
      if (index >= parent.items.length) return false;
      parent.items.splice(index, 1);
      return true;
  }
}

function resolveIndex(leg: { index: number; fromEnd: boolean }, length: number): number {
  if (!leg.fromEnd) return leg.index;
  const index = length - 1 - leg.index;
  return index < 0 ? Number.POSITIVE_INFINITY : index;
}

/** Binary JSON keeps object keys sorted by UTF-8 length, then bytes; a new key goes where the server would store it. */
function keyPosition(keys: readonly string[], key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let position = 0;
  while (position < keys.length) {
    const other = Buffer.from(keys[position] as string, 'utf8');
    if (other.length > bytes.length || (other.length === bytes.length && Buffer.compare(other, bytes) > 0))
      break;
    position++;
  }
  return position;
}

/**
 * Parses the path syntax the server writes into diffs: `$`, then `.name`,
 * `."quoted name"`, `[n]`, `[last]` or `[last-n]`. Undefined when the path
 * has anything else (wildcards cannot appear in diffs).
 */
export function parseJsonPath(path: string): PathLeg[] | undefined {
  let at = skipSpaces(path, 0);
  if (path[at] !== '$') return undefined;
  at++;
  const legs: PathLeg[] = [];
  for (;;) {
    at = skipSpaces(path, at);
    if (at >= path.length) return legs;
    const c = path[at];
    if (c === '.') {
      at = skipSpaces(path, at + 1);
      if (path[at] === '"') {
        const close = closingQuote(path, at);
        if (close < 0) return undefined;
        legs.push({ key: JSON.parse(path.slice(at, close + 1)) as string });
        at = close + 1;
      } else {
        let stop = at;
        while (stop < path.length && !'.[ '.includes(path[stop] as string)) stop++;
        if (stop === at) return undefined;
        const name = path.slice(at, stop);
        if (name === '*') return undefined;
        legs.push({ key: name });
        at = stop;
      }
    } else if (c === '[') {
      const close = path.indexOf(']', at);
      if (close < 0) return undefined;
      const inner = path.slice(at + 1, close).replace(/\s+/g, '');
      const match = /^(?:(\d+)|last(?:-(\d+))?)$/.exec(inner);
      if (match === null) return undefined;
      legs.push(
        match[1] !== undefined
          ? { index: Number(match[1]), fromEnd: false }
          : { index: Number(match[2] ?? 0), fromEnd: true },
      );
      at = close + 1;
    } else {
      return undefined;
    }
  }
}

function skipSpaces(text: string, at: number): number {
  while (text[at] === ' ') at++;
  return at;
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
