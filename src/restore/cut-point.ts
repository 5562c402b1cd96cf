/**
 * Cut points: where a point-in-time restore stops, given as a transaction
 * (before or after it), a file position, a time, or the end of the binlog,
 * and resolved against the binlog to exact coordinates.
 */
import { isGtid, type Transaction } from '../binlog/index.js';
import { SalvageError } from '../errors.js';
import { parseTime } from '../timeline/index.js';

/** What the user asked for. */
export type CutPoint =
  | { readonly kind: 'before'; readonly gtid: string }
  | { readonly kind: 'after'; readonly gtid: string }
  | { readonly kind: 'position'; readonly file: string; readonly position: number }
  /** Before the first transaction committed after `at` (epoch seconds). */
  | { readonly kind: 'time'; readonly at: number; readonly text: string; readonly zone: string }
  /** Everything the binlog holds (used with --skip). */
  | { readonly kind: 'end' };

/** A cut point found in the binlog: replay stops before the event at `file:position`. */
export interface ResolvedCut {
  readonly point: CutPoint;
  readonly file: string;
  readonly position: number;
  /** The transaction the cut is next to (before/after/time), when there is one. */
  readonly transaction:
    | {
        readonly gtid: string | undefined;
        readonly file: string;
        readonly start: number;
        readonly end: number;
        readonly ts: number;
      }
    | undefined;
}

export interface CutFlags {
  readonly before?: string;
  readonly after?: string;
  readonly until?: string;
  readonly tz?: string;
  readonly at?: string;
  readonly skip?: readonly string[];
}

/** The one cut point the flags give; anything else is a usage error. */
export function parseCutPoint(flags: CutFlags, defaultZone: string): CutPoint {
  const given = (['before', 'after', 'until', 'at', 'skip'] as const).filter((k) =>
    k === 'skip' ? (flags.skip?.length ?? 0) > 0 : flags[k] !== undefined,
  );
  if (given.length !== 1) {
    throw new SalvageError(
      'USAGE',
      `give exactly one of --before, --after, --until, --at or --skip (got ${given.length === 0 ? 'none' : given.map((k) => `--${k}`).join(', ')})`,
    );
  }
  if (flags.tz !== undefined && flags.until === undefined)
    throw new SalvageError('USAGE', '--tz goes with --until');
  if (flags.before !== undefined) return { kind: 'before', gtid: checkGtid(flags.before) };
  if (flags.after !== undefined) return { kind: 'after', gtid: checkGtid(flags.after) };
  if (flags.until !== undefined) {
    const zone = flags.tz ?? defaultZone;
    return { kind: 'time', at: parseTime(flags.until, zone), text: flags.until, zone };
  }
  if (flags.at !== undefined) {
    const m = /^([^:/\\]+):(\d+)$/.exec(flags.at);
    if (!m)
      throw new SalvageError('BAD_INPUT', `--at ${flags.at} is not FILE:POSITION`, {
        hint: 'Write it as binlog.000042:1234 (a transaction start).',
      });
    return { kind: 'position', file: m[1] as string, position: Number(m[2]) };
  }
  for (const gtid of flags.skip ?? []) checkGtid(gtid);
  return { kind: 'end' };
}

/** MariaDB `domain-server-seq` or MySQL `uuid:n`. */
export function checkGtid(text: string): string {
  const gtid = text.trim();
  if (isGtid(gtid)) return gtid;
  throw new SalvageError('BAD_INPUT', `"${text}" is not a GTID`, {
    hint: 'MariaDB GTIDs are domain-server-sequence (0-1-42); MySQL GTIDs are uuid:n.',
  });
}

/**
 * Whether `tx` decides the cut: the coordinates to stop at, or undefined to
 * keep reading. A position inside a transaction is refused: half a
 * transaction is never applied.
 */
export function cutAt(point: CutPoint, tx: Transaction): ResolvedCut | undefined {
  const at = (file: string, position: number): ResolvedCut => ({
    point,
    file,
    position,
    transaction: { gtid: tx.gtid, file: tx.file, start: tx.start, end: tx.end, ts: tx.ts },
  });
  switch (point.kind) {
    case 'before':
      return tx.gtid === point.gtid ? at(tx.file, tx.start) : undefined;
    case 'after':
      return tx.gtid === point.gtid ? at(tx.file, tx.end) : undefined;
    case 'time':
      return tx.ts > point.at ? at(tx.file, tx.start) : undefined;
    case 'position':
      if (tx.file !== point.file || tx.end <= point.position) return undefined;
      if (tx.start === point.position) return at(tx.file, tx.start);
      if (tx.start > point.position) {
        // The position is past the previous transaction's end, between events outside any transaction.
        return at(tx.file, tx.start);
      }
      throw new SalvageError(
        'BAD_INPUT',
        `${point.file}:${point.position} is inside transaction ${tx.gtid ?? ''} (${tx.file}:${tx.start}..${tx.end})`,
        {
          hint: `Cut before it with --at ${tx.file}:${tx.start}, or after it with --at ${tx.file}:${tx.end}.`,
          context: { file: point.file, position: point.position, gtid: tx.gtid },
        },
      );
    case 'end':
      return undefined;
  }
}

/** For messages and --json. */
export function describeCut(point: CutPoint): string {
  switch (point.kind) {
    case 'before':
      return `just before ${point.gtid}`;
    case 'after':
      return `just after ${point.gtid}`;
    case 'time':
      return `transactions committed up to ${point.text} (${point.zone})`;
    case 'position':
      return `${point.file}:${point.position}`;
    case 'end':
      return 'the end of the binlog';
  }
}
