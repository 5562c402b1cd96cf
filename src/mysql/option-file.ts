/**
 * Reads the client groups of a MySQL/MariaDB option file (~/.my.cnf) with
 * the clients' rules: "#" or ";" comment lines, "#" ending an unquoted value,
 * single or double quotes, backslash escapes, "-" and "_" alike in names.
 */

/** The groups libmariadb reads for any client, in order (later ones win); [client-mariadb] is MariaDB's own. */
export const CLIENT_GROUPS = ['client', 'client-server', 'client-mariadb'] as const;

/** Option name → value for the client groups of an option file's text. */
export function readClientOptions(text: string): Map<string, string> {
  const byGroup = new Map<string, Map<string, string>>();
  let group: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('!')) continue;
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      const name = header[1]!.trim().toLowerCase();
      group = byGroup.get(name) ?? new Map<string, string>();
      byGroup.set(name, group);
      continue;
    }
    if (!group) continue;
    const eq = line.indexOf('=');
    const name = normalizeName(eq >= 0 ? line.slice(0, eq) : stripComment(line));
    const value = eq >= 0 ? parseValue(line.slice(eq + 1)) : '';
    group.set(name, value);
  }
  const merged = new Map<string, string>();
  for (const name of CLIENT_GROUPS) {
    for (const [key, value] of byGroup.get(name) ?? []) merged.set(key, value);
  }
  return merged;
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replaceAll('_', '-');
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  s: ' ',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

function parseValue(raw: string): string {
  const text = raw.trim();
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    let out = '';
    for (let i = 1; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === quote) return out;
      if (ch === '\\' && i + 1 < text.length) {
        const next = text[++i]!;
        out += ESCAPES[next] ?? `\\${next}`;
      } else {
        out += ch;
      }
    }
    // An unterminated quote: the client takes the text as it is.
    return text;
  }
  return unescapeValue(stripComment(text).trim());
}

function stripComment(text: string): string {
  const hash = text.indexOf('#');
  return hash >= 0 ? text.slice(0, hash) : text;
}

function unescapeValue(text: string): string {
  return text.replace(/\\(.)/g, (all, next: string) => ESCAPES[next] ?? all);
}
