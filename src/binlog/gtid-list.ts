/**
 * Transactions named on the command line: single GTIDs, comma lists, and
 * ranges of one server's consecutive transactions — MariaDB
 * `0-1-100..0-1-250`, MySQL `uuid:100-250` — so a migration of thousands of
 * transactions is named in one argument.
 */
import { SalvageError } from '../errors.js';

/** More than any migration: a typo in a range must not allocate millions of names. */
const MAX_EXPANDED = 5_000_000;

const MARIADB = /^(\d+)-(\d+)-(\d+)$/;
const MYSQL =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?::[a-z_][a-z0-9_]*)?):(\d+)(?:-(\d+))?$/i;

/** Whether `text` is one GTID: MariaDB `domain-server-seq` or MySQL `uuid[:tag]:n`. */
export function isGtid(text: string): boolean {
  const mysql = MYSQL.exec(text);
  return MARIADB.test(text) || (mysql !== null && mysql[3] === undefined);
}

/**
 * A list expandGtids made from one MariaDB range, known without reading it
 * back: finding its lowest GTID and matching events against it parsed each
 * of its names again (30-40 ms for 50,000 before the first event was read).
 * Only for sequences that are exact numbers and names as servers write them.
 */
interface GtidRun {
  /** The first (and lowest) GTID. */
  readonly first: string;
  readonly domain: number;
  readonly server: number;
  readonly sequence: number;
}

/** Lists (and their selections) that are one run; the lists are frozen, so they stay one. */
const RUNS = new WeakMap<object, GtidRun>();

/** Every GTID the arguments name, in the order given, each once. */
export function expandGtids(args: readonly string[]): readonly string[] {
  const parts = args.flatMap((arg) => arg.split(',').map((part) => part.trim())).filter((p) => p !== '');
  // One range names each transaction once: no set of them is needed to drop repeats.
  if (parts.length === 1) return expandOne(parts[0] as string);
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (gtid: string): void => {
    if (seen.has(gtid)) return;
    if (out.length >= MAX_EXPANDED) {
      throw new SalvageError('BAD_INPUT', `more than ${MAX_EXPANDED} transactions named`, {
        hint: 'Check the ranges given with --gtid.',
      });
    }
    seen.add(gtid);
    out.push(gtid);
  };
  for (const part of parts) for (const gtid of expandOne(part)) add(gtid);
  return out;
}

/** A GTID taken apart: MariaDB `domain-server-sequence`, MySQL `uuid[:tag]:sequence`. */
export interface GtidParts {
  /** A MySQL GTID (`uuid[:tag]:n`), else MariaDB's. */
  readonly mysql: boolean;
  /** Everything before the sequence number, its separator included: `0-1-`, `uuid:`. */
  readonly prefix: string;
  /** What numbers the sequence: the MariaDB domain (`0`), the MySQL source and tag. */
  readonly stream: string;
  /** A number while exact, else a bigint (the two compare correctly with each other). */
  readonly sequence: number | bigint;
}

/**
 * The parts of one GTID; undefined for anything else. By hand, not by
 * regular expression and BigInt: it runs once per transaction of an undo.
 */
export function gtidParts(gtid: string): GtidParts | undefined {
  const mysql = gtid.includes(':');
  const last = gtid.lastIndexOf(mysql ? ':' : '-');
  if (last <= 0 || last === gtid.length - 1 || !digitsOnly(gtid, last + 1, gtid.length)) return undefined;
  const digits = gtid.slice(last + 1);
  const sequence = digits.length <= 15 ? Number(digits) : BigInt(digits);
  if (mysql) return { mysql, prefix: gtid.slice(0, last + 1), stream: gtid.slice(0, last), sequence };
  const first = gtid.indexOf('-');
  if (first === last || !digitsOnly(gtid, 0, first) || !digitsOnly(gtid, first + 1, last)) return undefined;
  return { mysql, prefix: gtid.slice(0, last + 1), stream: gtid.slice(0, first), sequence };
}

/**
 * The lowest of `gtids` when they are all of one stream (a MariaDB domain,
 * a MySQL source and tag, in any case); undefined otherwise: there is no
 * order among them to find the first by.
 */
export function lowestOfStream(gtids: Iterable<string>): GtidParts | undefined {
  const run = RUNS.get(gtids);
  if (run !== undefined) return gtidParts(run.first);
  let lowest: GtidParts | undefined;
  for (const gtid of gtids) {
    // Most of a long list shares the lowest's prefix (one range): its number is all there is to read.
    if (lowest !== undefined && typeof lowest.sequence === 'number') {
      const sequence = sequenceAfter(gtid, lowest.prefix);
      if (sequence >= 0) {
        if (sequence < lowest.sequence) lowest = { ...lowest, sequence };
        continue;
      }
    }
    const parts = gtidParts(gtid);
    if (parts === undefined) return undefined;
    if (lowest !== undefined && parts.stream.toLowerCase() !== lowest.stream.toLowerCase()) return undefined;
    if (lowest === undefined || parts.sequence < lowest.sequence) lowest = parts;
  }
  return lowest;
}

/**
 * The GTIDs that say whether any of `gtids` was logged before a MariaDB
 * GTID state (which holds the last sequence number of each domain and
 * server): the lowest of each domain and server, and every other GTID (a
 * MySQL GTID set may have gaps, so each of those counts).
 */
export function lowestPerServer(gtids: Iterable<string>): string[] {
  const run = RUNS.get(gtids);
  if (run !== undefined) return [run.first];
  const lowest = new Map<string, { gtid: string; sequence: number | bigint }>();
  const others: string[] = [];
  let prefix = '';
  let current: { gtid: string; sequence: number | bigint } | undefined;
  for (const gtid of gtids) {
    if (current !== undefined) {
      const sequence = sequenceAfter(gtid, prefix);
      if (sequence >= 0) {
        if (sequence < current.sequence) {
          current.gtid = gtid;
          current.sequence = sequence;
        }
        continue;
      }
    }
    const parts = gtidParts(gtid);
    if (parts === undefined || parts.mysql) {
      others.push(gtid);
      current = undefined;
      continue;
    }
    prefix = parts.prefix;
    current = lowest.get(prefix);
    if (current === undefined) {
      current = { gtid, sequence: parts.sequence };
      lowest.set(prefix, current);
    } else if (parts.sequence < current.sequence) {
      current.gtid = gtid;
      current.sequence = parts.sequence;
    }
  }
  return [...others, ...[...lowest.values()].map((l) => l.gtid)];
}

/**
 * The sequence number of `gtid` when it is `prefix` followed by up to 15
 * digits (what gtidParts would read as a number); -1 otherwise.
 */
function sequenceAfter(gtid: string, prefix: string): number {
  const digits = gtid.length - prefix.length;
  if (digits <= 0 || digits > 15 || !gtid.startsWith(prefix)) return -1;
  let value = 0;
  for (let i = prefix.length; i < gtid.length; i++) {
    const c = gtid.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}

function digitsOnly(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The inverse of expandGtids for people: runs of one server's consecutive
 * transactions written as ranges (`0-1-100..0-1-250`, `uuid:100-250`),
 * everything else as it is, in order.
 */
export function compactGtids(gtids: readonly string[]): string[] {
  // A range as expandGtids made it is one run already: no need to read 50,000 names to find that out.
  if (RUNS.has(gtids)) return [`${gtids[0]}..${gtids.at(-1)}`];
  const out: string[] = [];
  let run: { prefix: string; mysql: boolean; first: number | bigint; last: number | bigint } | undefined;
  const close = (): void => {
    if (run === undefined) return;
    const { prefix, mysql, first, last } = run;
    if (first === last) out.push(`${prefix}${first}`);
    else out.push(mysql ? `${prefix}${first}-${last}` : `${prefix}${first}..${prefix}${last}`);
    run = undefined;
  };
  for (const gtid of gtids) {
    if (run !== undefined && typeof run.last === 'number') {
      const sequence = sequenceAfter(gtid, run.prefix);
      if (sequence >= 0 && sequence === run.last + 1) {
        run.last = sequence;
        continue;
      }
    }
    const parts = gtidParts(gtid);
    if (
      parts !== undefined &&
      run !== undefined &&
      run.prefix === parts.prefix &&
      follows(run.last, parts.sequence)
    ) {
      run.last = parts.sequence;
      continue;
    }
    close();
    if (parts === undefined) out.push(gtid);
    else run = { prefix: parts.prefix, mysql: parts.mysql, first: parts.sequence, last: parts.sequence };
  }
  close();
  return out;
}

/** `next` is `last` + 1. */
function follows(last: number | bigint, next: number | bigint): boolean {
  return typeof last === 'number' && typeof next === 'number'
    ? next === last + 1
    : BigInt(next) === BigInt(last) + 1n;
}

/** The GTIDs one argument names, in order; an array filled in one loop, faster than one yielded at a time. */
function expandOne(text: string): string[] {
  const range = text.split('..');
  if (range.length === 2) {
    const from = MARIADB.exec(range[0] as string);
    const to = MARIADB.exec(range[1] as string);
    if (from && to && from[1] === to[1] && from[2] === to[2]) {
      const names = sequence(
        `${from[1]}-${from[2]}-`,
        BigInt(from[3] as string),
        BigInt(to[3] as string),
        text,
      );
      const first = names[0] as string;
      // Consecutive numbers (the exact ones sequence() counts as numbers) written as a server writes them.
      if (names.length > 1 && serverForm(first) && serverForm(names.at(-1) as string)) {
        RUNS.set(Object.freeze(names), {
          first,
          domain: PARSED[0] as number,
          server: PARSED[1] as number,
          sequence: Number(BigInt(from[3] as string)),
        });
      }
      return names;
    }
    throw notGtid(text, 'a MariaDB range joins two GTIDs of the same domain and server: 0-1-100..0-1-250');
  }
  if (MARIADB.test(text)) return [text];
  const mysql = MYSQL.exec(text);
  if (mysql) {
    const first = BigInt(mysql[2] as string);
    // The server writes UUIDs and tags in lower case (as it logs and prints them); any case is the same source.
    const source = (mysql[1] as string).toLowerCase();
    return sequence(`${source}:`, first, mysql[3] === undefined ? first : BigInt(mysql[3]), text);
  }
  throw notGtid(
    text,
    'MariaDB GTIDs are domain-server-sequence (0-1-42); MySQL GTIDs are uuid:n or uuid:n-m.',
  );
}

function sequence(prefix: string, first: bigint, last: bigint, text: string): string[] {
  if (last < first) throw notGtid(text, 'a range goes from the older transaction to the newer one');
  if (last - first >= BigInt(MAX_EXPANDED)) {
    throw new SalvageError('BAD_INPUT', `${text} names more than ${MAX_EXPANDED} transactions`, {
      hint: 'Check the range.',
    });
  }
  const names: string[] = [];
  if (last <= BigInt(Number.MAX_SAFE_INTEGER)) {
    // Numbers count a range of tens of thousands several times faster than BigInts.
    for (let n = Number(first), end = Number(last); n <= end; n++) names.push(prefix + n);
  } else {
    for (let n = first; n <= last; n++) names.push(prefix + n);
  }
  return names;
}

function notGtid(text: string, hint: string): SalvageError {
  return new SalvageError('BAD_INPUT', `"${text}" is not a GTID or a range of GTIDs`, { hint });
}

/**
 * A list of GTIDs that MariaDB GTID events are matched against by their
 * numbers: hashing each event's freshly built `domain-server-sequence`
 * string cost more than the rest of reading the event. A GTID not written
 * the way servers write it (leading zeros, a sequence beyond 2^53) and
 * MySQL's are matched by their text. Answers are positions in the list.
 */
export class GtidMatcher {
  /** sequence → the first position with it, for sequences spread out; `#next` chains the others with the same sequence. */
  readonly #bySequence = new Map<number, number>();
  /**
   * The same for sequences close together (one range, the usual list): a
   * table indexed by sequence - `#lowest`, -1 where none; empty otherwise.
   */
  readonly #dense: Int32Array;
  readonly #lowest: number;
  readonly #next: Int32Array;
  /** Per position: domain and server (-1: not in server form, matched by text). */
  readonly #domains: Float64Array;
  readonly #servers: Float64Array;
  readonly #texts = new Map<string, number>();
  /** A GTID listed twice: the later position → the first. */
  readonly #repeats = new Map<number, number>();

  constructor(gtids: readonly string[]) {
    this.#next = new Int32Array(gtids.length).fill(-1);
    const run = RUNS.get(gtids);
    if (run !== undefined) {
      // One server's consecutive sequences: position i holds the run's i-th.
      this.#domains = new Float64Array(gtids.length).fill(run.domain);
      this.#servers = new Float64Array(gtids.length).fill(run.server);
      this.#dense = new Int32Array(gtids.length);
      for (let i = 0; i < gtids.length; i++) this.#dense[i] = i;
      this.#lowest = run.sequence;
      return;
    }
    this.#domains = new Float64Array(gtids.length).fill(-1);
    this.#servers = new Float64Array(gtids.length).fill(-1);
    const sequences = new Float64Array(gtids.length).fill(-1);
    let lowest = Number.POSITIVE_INFINITY;
    let highest = -1;
    for (let index = 0; index < gtids.length; index++) {
      const gtid = gtids[index] as string;
      if (!serverForm(gtid)) {
        const earlier = this.#texts.get(gtid);
        if (earlier === undefined) this.#texts.set(gtid, index);
        else this.#repeats.set(index, earlier);
        continue;
      }
      this.#domains[index] = PARSED[0] as number;
      this.#servers[index] = PARSED[1] as number;
      const sequence = PARSED[2] as number;
      sequences[index] = sequence;
      if (sequence < lowest) lowest = sequence;
      if (sequence > highest) highest = sequence;
    }
    // A table a few times the list's length at most; a wider spread is hashed.
    const dense = highest >= 0 && highest - lowest < 4 * gtids.length + 64;
    this.#dense = new Int32Array(dense ? highest - lowest + 1 : 0).fill(-1);
    this.#lowest = dense ? lowest : 0;
    for (let index = 0; index < gtids.length; index++) {
      const sequence = sequences[index] as number;
      if (sequence < 0) continue;
      let at = dense ? (this.#dense[sequence - lowest] as number) : (this.#bySequence.get(sequence) ?? -1);
      if (at < 0) {
        if (dense) this.#dense[sequence - lowest] = index;
        else this.#bySequence.set(sequence, index);
        continue;
      }
      const domain = this.#domains[index];
      const server = this.#servers[index];
      for (;;) {
        if (this.#domains[at] === domain && this.#servers[at] === server) {
          this.#repeats.set(index, at);
          break;
        }
        const next = this.#next[at] as number;
        if (next < 0) {
          this.#next[at] = index;
          break;
        }
        at = next;
      }
    }
  }

  /** The first position of the GTID at `position` (the answers name only first positions). */
  first(position: number): number {
    return this.#repeats.get(position) ?? position;
  }

  /** The position of the GTID a MariaDB GTID event carries (`text` its GTID); undefined when not wanted. */
  mariadb(domain: number, server: number, sequence: bigint, text: string): number | undefined {
    if (sequence <= MAX_EXACT) {
      const n = Number(sequence);
      const dense = this.#dense;
      let i = dense.length > 0 ? (dense[n - this.#lowest] ?? -1) : (this.#bySequence.get(n) ?? -1);
      for (; i >= 0; i = this.#next[i] as number) {
        if (this.#domains[i] === domain && this.#servers[i] === server) return i;
      }
    }
    return this.#texts.size > 0 ? this.#texts.get(text) : undefined;
  }

  /** The position of `text` among the GTIDs; undefined when not wanted. */
  text(text: string): number | undefined {
    const found = this.#texts.get(text);
    if (found !== undefined) return found;
    if ((this.#bySequence.size === 0 && this.#dense.length === 0) || !serverForm(text)) return undefined;
    return this.mariadb(PARSED[0] as number, PARSED[1] as number, BigInt(PARSED[2] as number), text);
  }
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** Transactions a reader looks for: whether a GTID is one of them, and each of them. */
export interface GtidSelection extends Iterable<string> {
  has(gtid: string): boolean;
}

/**
 * The GTIDs as a GtidSelection answered by a GtidMatcher: a Set of a
 * 50,000-transaction range hashes 50,000 new strings before the first look-up.
 */
export function selectGtids(gtids: readonly string[], matcher = new GtidMatcher(gtids)): GtidSelection {
  const selection: GtidSelection = {
    has: (gtid) => matcher.text(gtid) !== undefined,
    [Symbol.iterator]: () => gtids[Symbol.iterator](),
  };
  const run = RUNS.get(gtids);
  if (run !== undefined) RUNS.set(selection, run);
  return selection;
}

/** serverForm's numbers: domain, server, sequence (one parse at a time, no array per GTID). */
const PARSED = new Float64Array(3);
/** The last `domain-server-` prefix parsed, and its numbers: the GTIDs of a range share it. */
let lastPrefix = '';
let lastDomain = 0;
let lastServer = 0;

/**
 * Whether `gtid` is `domain-server-sequence` as a server writes it
 * (decimal, no leading zeros, each number exact); its numbers in PARSED.
 */
function serverForm(gtid: string): boolean {
  const cut = gtid.lastIndexOf('-');
  if (cut <= 0) return false;
  if (cut + 1 !== lastPrefix.length || !gtid.startsWith(lastPrefix)) {
    const first = gtid.indexOf('-');
    if (first === cut) return false;
    const domain = serverNumber(gtid, 0, first);
    const server = serverNumber(gtid, first + 1, cut);
    if (domain < 0 || server < 0) return false;
    lastPrefix = gtid.slice(0, cut + 1);
    lastDomain = domain;
    lastServer = server;
  }
  const sequence = serverNumber(gtid, cut + 1, gtid.length);
  if (sequence < 0) return false;
  PARSED[0] = lastDomain;
  PARSED[1] = lastServer;
  PARSED[2] = sequence;
  return true;
}

/** The decimal number `text[start..end)` as a server writes it (no sign, no leading zero, exact); -1 otherwise. */
function serverNumber(text: string, start: number, end: number): number {
  const digits = end - start;
  if (digits === 0 || digits > 15 || (digits > 1 && text.charCodeAt(start) === 48)) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}
