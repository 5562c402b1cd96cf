/**
 * PREVIOUS_GTIDS_LOG_EVENT: the GTID set executed before this binlog began.
 * 8.4+ may write the tagged format: the first 8 bytes then hold a format byte
 * at both ends and the SID count in between, and each SID has a tag.
 */
import type { ByteReader } from '../byte-reader.js';
import { formatUuid } from './gtid.js';
import type { EventHeader } from './header.js';

export interface GtidSetEntry {
  readonly sid: string;
  readonly tag?: string;
  /** Closed ranges [first, last] of transaction numbers. */
  readonly intervals: readonly (readonly [number, number])[];
}

export interface PreviousGtidsEvent {
  readonly kind: 'previous-gtids';
  readonly header: EventHeader;
  readonly entries: readonly GtidSetEntry[];
  /** The set in MySQL text form, e.g. `3e11fa47-...:1-5,3e11fa47-...:tag:1-2`. */
  readonly gtidSet: string;
}

export function decodePreviousGtids(r: ByteReader, header: EventHeader): PreviousGtidsEvent {
  const low = r.u32();
  const high = r.u32();
  const format = high >>> 24;
  const tagged = format !== 0;
  // Untagged: a plain u64 count. Tagged: bits 8..55.
  const count = tagged
    ? Math.floor(low / 256) + (high & 0xffffff) * 2 ** 24
    : low + (high & 0xffffff) * 2 ** 32;
  if (count * 24 > r.remaining)
    throw r.corrupt(`PREVIOUS_GTIDS claims ${count} SIDs, more than the event holds`);
  const entries: GtidSetEntry[] = [];
  for (let i = 0; i < count; i++) {
    const sid = formatUuid(r.bytes(16));
    const tag = tagged ? r.string(r.varlenUint()) || undefined : undefined;
    const n = r.u64Number();
    if (n * 16 > r.remaining)
      throw r.corrupt(`PREVIOUS_GTIDS claims ${n} intervals, more than the event holds`);
    const intervals: [number, number][] = [];
    for (let k = 0; k < n; k++) {
      const start = r.u64Number();
      const end = r.u64Number(); // exclusive
      intervals.push([start, end - 1]);
    }
    entries.push(tag === undefined ? { sid, intervals } : { sid, tag, intervals });
  }
  return { kind: 'previous-gtids', header, entries, gtidSet: formatGtidSet(entries) };
}

export function formatGtidSet(entries: readonly GtidSetEntry[]): string {
  return entries
    .map((e) => {
      const ranges = e.intervals.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':');
      return e.tag ? `${e.sid}:${e.tag}:${ranges}` : `${e.sid}:${ranges}`;
    })
    .join(',');
}
