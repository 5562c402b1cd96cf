/**
 * Times given on the command line, in an explicit IANA zone. A local time
 * that a DST change makes happen twice, or never, is an error showing both
 * candidates: a cut point must never be a guess.
 */
import { SalvageError } from '../errors.js';

/** The zone used when none is given: the system's. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new SalvageError('BAD_INPUT', `unknown time zone ${JSON.stringify(zone)}`, {
        hint: 'Give an IANA zone name such as UTC, Europe/Paris or America/New_York.',
      });
    }
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's wall-clock time at `utcMs`, as if it were UTC (milliseconds, whole seconds). */
function wallClockMs(zone: string, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return Date.UTC(
    parts.year as number,
    (parts.month as number) - 1,
    parts.day as number,
    parts.hour as number,
    parts.minute as number,
    parts.second as number,
  );
}

/** UTC offset of `zone` at `utcMs`, in milliseconds (east positive). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const whole = Math.floor(utcMs / 1000) * 1000;
  return wallClockMs(zone, whole) - whole;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses a point in time to epoch seconds (with microseconds): `@<epoch>`,
 * ISO 8601 with `Z` or an offset, or a local `YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]`
 * in `zone`.
 */
export function parseTime(text: string, zone: string): number {
  const input = text.trim();
  if (/^@-?\d+(\.\d+)?$/.test(input)) return Number(input.slice(1));
  if (WITH_OFFSET.test(input)) {
    const micros = /\.(\d{1,6})/.exec(input)?.[1] ?? '';
    const ms = Date.parse(input.replace(' ', 'T').replace(/\.\d{1,6}/, ''));
    if (Number.isNaN(ms)) throw badTime(text);
    return ms / 1000 + Number(`0.${micros || '0'}`);
  }
  const m = LOCAL.exec(input);
  if (!m) throw badTime(text);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as number[];
  const fraction = Number(`0.${m[7] ?? '0'}`);
  const wall = Date.UTC(y as number, (mo as number) - 1, d as number, h as number, mi as number, s as number);
  const check = new Date(wall);
  if (
    check.getUTCMonth() !== (mo as number) - 1 ||
    check.getUTCDate() !== d ||
    (h as number) > 23 ||
    (mi as number) > 59 ||
    (s as number) > 59
  ) {
    throw badTime(text);
  }
  return localToUtcMs(wall, zone, input) / 1000 + fraction;
}

/** The instant a wall-clock time in `zone` names; throws when DST makes it ambiguous or nonexistent. */
function localToUtcMs(wall: number, zone: string, shown: string): number {
  const day = 24 * 3600 * 1000;
  const offsets = new Set([
    zoneOffsetMs(zone, wall - day),
    zoneOffsetMs(zone, wall),
    zoneOffsetMs(zone, wall + day),
  ]);
  const matches = new Set<number>();
  for (const offset of offsets) {
    const candidate = wall - offset;
    if (wallClockMs(zone, candidate) === wall) matches.add(candidate);
  }
  const found = [...matches].sort((a, b) => a - b);
  if (found.length === 1) return found[0] as number;
  if (found.length > 1) {
    const shownCandidates = found.map((ms) => formatInstant(ms / 1000, zone)).join(' and ');
    throw new SalvageError('AMBIGUOUS_TIME', `${shown} happens twice in ${zone}: ${shownCandidates}`, {
      context: { zone, candidates: found.map((ms) => new Date(ms).toISOString()) },
    });
  }
  // Nonexistent: the clock jumped over it. The two readings with the offsets before and after the jump.
  const before = wall - zoneOffsetMs(zone, wall - day);
  const after = wall - zoneOffsetMs(zone, wall + day);
  const candidates = [before, after].sort((a, b) => a - b);
  throw new SalvageError(
    'NONEXISTENT_TIME',
    `${shown} never happens in ${zone} (the clocks skip it); it could mean ${candidates.map((ms) => formatInstant(ms / 1000, zone)).join(' or ')}`,
    { context: { zone, candidates: candidates.map((ms) => new Date(ms).toISOString()) } },
  );
}

function badTime(text: string): SalvageError {
  return new SalvageError('BAD_TIME', `cannot read ${JSON.stringify(text)} as a time`);
}

/**
 * Formats epoch seconds as local time in `zone` with its offset, e.g.
 * `2024-11-03 01:30:00.250000 -04:00` (microseconds only when non-zero).
 */
export function formatInstant(epochSeconds: number, zone: string): string {
  const ms = Math.floor(epochSeconds) * 1000;
  const offset = zoneOffsetMs(zone, ms);
  const wall = new Date(ms + offset).toISOString();
  const micros = Math.round((epochSeconds - Math.floor(epochSeconds)) * 1e6);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60000;
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  const fraction = micros > 0 ? `.${String(micros).padStart(6, '0')}` : '';
  return `${wall.slice(0, 10)} ${wall.slice(11, 19)}${fraction} ${sign}${hh}:${mm}`;
}
