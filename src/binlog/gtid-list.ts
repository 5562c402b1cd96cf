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

/** Every GTID the arguments name, in the order given, each once. */
export function expandGtids(args: readonly string[]): string[] {
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
  for (const arg of args) {
    for (const part of arg.split(',')) {
      const text = part.trim();
      if (text === '') continue;
      for (const gtid of expandOne(text)) add(gtid);
    }
  }
  return out;
}

/**
 * The inverse of expandGtids for people: runs of one server's consecutive
 * transactions written as ranges (`0-1-100..0-1-250`, `uuid:100-250`),
 * everything else as it is, in order.
 */
export function compactGtids(gtids: readonly string[]): string[] {
  const out: string[] = [];
  let run: { prefix: string; mysql: boolean; first: bigint; last: bigint } | undefined;
  const close = (): void => {
    if (run === undefined) return;
    const { prefix, mysql, first, last } = run;
    if (first === last) out.push(`${prefix}${first}`);
    else out.push(mysql ? `${prefix}${first}-${last}` : `${prefix}${first}..${prefix}${last}`);
    run = undefined;
  };
  for (const gtid of gtids) {
    const mariadb = MARIADB.exec(gtid);
    const mysql = mariadb === null ? MYSQL.exec(gtid) : null;
    const parts =
      mariadb !== null
        ? { prefix: `${mariadb[1]}-${mariadb[2]}-`, mysql: false, n: BigInt(mariadb[3] as string) }
        : mysql !== null && mysql[3] === undefined
          ? { prefix: `${mysql[1]}:`, mysql: true, n: BigInt(mysql[2] as string) }
          : undefined;
    if (
      parts !== undefined &&
      run !== undefined &&
      run.prefix === parts.prefix &&
      parts.n === run.last + 1n
    ) {
      run.last = parts.n;
      continue;
    }
    close();
    if (parts === undefined) out.push(gtid);
    else run = { prefix: parts.prefix, mysql: parts.mysql, first: parts.n, last: parts.n };
  }
  close();
  return out;
}

function* expandOne(text: string): Generator<string> {
  const range = text.split('..');
  if (range.length === 2) {
    const from = MARIADB.exec(range[0] as string);
    const to = MARIADB.exec(range[1] as string);
    if (from && to && from[1] === to[1] && from[2] === to[2]) {
      yield* sequence(`${from[1]}-${from[2]}-`, BigInt(from[3] as string), BigInt(to[3] as string), text);
      return;
    }
    throw notGtid(text, 'a MariaDB range joins two GTIDs of the same domain and server: 0-1-100..0-1-250');
  }
  if (MARIADB.test(text)) {
    yield text;
    return;
  }
  const mysql = MYSQL.exec(text);
  if (mysql) {
    const first = BigInt(mysql[2] as string);
    yield* sequence(`${mysql[1]}:`, first, mysql[3] === undefined ? first : BigInt(mysql[3]), text);
    return;
  }
  throw notGtid(
    text,
    'MariaDB GTIDs are domain-server-sequence (0-1-42); MySQL GTIDs are uuid:n or uuid:n-m.',
  );
}

function* sequence(prefix: string, first: bigint, last: bigint, text: string): Generator<string> {
  if (last < first) throw notGtid(text, 'a range goes from the older transaction to the newer one');
  if (last - first >= BigInt(MAX_EXPANDED)) {
    throw new SalvageError('BAD_INPUT', `${text} names more than ${MAX_EXPANDED} transactions`, {
      hint: 'Check the range.',
    });
  }
  if (last <= BigInt(Number.MAX_SAFE_INTEGER)) {
    // Numbers count a range of tens of thousands several times faster than BigInts.
    for (let n = Number(first), end = Number(last); n <= end; n++) yield `${prefix}${n}`;
  } else {
    for (let n = first; n <= last; n++) yield `${prefix}${n}`;
  }
}

function notGtid(text: string, hint: string): SalvageError {
  return new SalvageError('BAD_INPUT', `"${text}" is not a GTID or a range of GTIDs`, { hint });
}
