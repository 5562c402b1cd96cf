/** Binlog file names: one server's files are `base.NNNNNN`, numbered in order. */

/**
 * Orders binlog file names of one server: same base name, numeric
 * extension that may grow past six digits (`.999999` → `.1000000`).
 */
export function compareBinlogFiles(a: string, b: string): number {
  const [baseA, numberA] = splitName(a);
  const [baseB, numberB] = splitName(b);
  if (baseA !== baseB || numberA === undefined || numberB === undefined) return a < b ? -1 : a > b ? 1 : 0;
  return numberA - numberB;
}

function splitName(name: string): [string, number | undefined] {
  const dot = name.lastIndexOf('.');
  const extension = name.slice(dot + 1);
  return dot >= 0 && /^\d+$/.test(extension) ? [name.slice(0, dot), Number(extension)] : [name, undefined];
}
