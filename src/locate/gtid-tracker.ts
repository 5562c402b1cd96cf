/**
 * The GTID state while reading a binlog in order, so a cut point can be given
 * as a GTID state as well as a file position. Seeded from the state a binlog
 * file starts with (MariaDB GTID_LIST, MySQL PREVIOUS_GTIDS), then each
 * transaction's GTID is added as it commits.
 */

/** MariaDB: the last GTID per replication domain (a GTID position). */
function mariadbPosition(): GtidTracker {
  const byDomain = new Map<string, string>();
  return {
    seed(gtids) {
      byDomain.clear();
      for (const g of gtids) byDomain.set(g.split('-')[0] as string, g);
    },
    add(gtid) {
      byDomain.set(gtid.split('-')[0] as string, gtid);
    },
    text() {
      return [...byDomain.entries()]
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([, g]) => g)
        .join(',');
    },
  };
}

/** MySQL: a GTID set, per source id (`uuid` or `uuid:tag`) closed ranges of transaction numbers. */
function mysqlSet(): GtidTracker {
  const bySource = new Map<string, [number, number][]>();
  const addRange = (source: string, a: number, b: number): void => {
    const ranges = bySource.get(source) ?? [];
    bySource.set(source, ranges);
    const last = ranges.at(-1);
    // Commits arrive mostly in order: extend the last range when adjacent.
    if (last && a === last[1] + 1) {
      last[1] = b;
      return;
    }
    ranges.push([a, b]);
    ranges.sort((x, y) => x[0] - y[0]);
    for (let i = ranges.length - 1; i > 0; i--) {
      const prev = ranges[i - 1] as [number, number];
      const cur = ranges[i] as [number, number];
      if (cur[0] <= prev[1] + 1) {
        prev[1] = Math.max(prev[1], cur[1]);
        ranges.splice(i, 1);
      }
    }
  };
  return {
    seed(entries) {
      bySource.clear();
      for (const entry of entries) {
        // `uuid[:tag]:a-b:c-d`: the numbers are the trailing parts.
        const parts = entry.split(':');
        const firstRange = parts.findIndex((p) => /^\d+(-\d+)?$/.test(p));
        const source = parts.slice(0, firstRange).join(':');
        for (const r of parts.slice(firstRange)) {
          const [a, b] = r.split('-').map(Number) as [number, number | undefined];
          addRange(source, a, b ?? a);
        }
      }
    },
    add(gtid) {
      const cut = gtid.lastIndexOf(':');
      const n = Number(gtid.slice(cut + 1));
      addRange(gtid.slice(0, cut), n, n);
    },
    text() {
      return [...bySource.entries()]
        .map(
          ([source, ranges]) =>
            `${source}:${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`,
        )
        .join(',');
    },
  };
}

export interface GtidTracker {
  /** Replaces the state: MariaDB GTIDs (`d-s-n`) or MySQL set entries (`uuid[:tag]:ranges`). */
  seed(gtids: readonly string[]): void;
  add(gtid: string): void;
  text(): string;
}

/** A GTID state of the flavor a GTID's syntax shows. */
export function gtidTrackerFor(flavor: 'mariadb' | 'mysql'): GtidTracker {
  return flavor === 'mariadb' ? mariadbPosition() : mysqlSet();
}
