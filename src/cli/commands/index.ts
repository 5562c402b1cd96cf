import type { Command } from 'commander';

type Register = (program: Command) => void;

/** A command group: the top-level names it adds and how to load its wiring. */
interface CommandGroup {
  readonly names: readonly string[];
  readonly load: () => Promise<readonly Register[]>;
}

/**
 * Every command group, in the order of the runbook. Groups load lazily: a
 * command imports only its own modules, so `salvage binlog timeline` does not
 * pay for loading restore, verify or the demo before reading a byte.
 */
const GROUPS: readonly CommandGroup[] = [
  { names: ['sandbox'], load: async () => [(await import('./sandbox.js')).registerSandbox] },
  { names: ['preflight'], load: async () => [(await import('./preflight.js')).registerPreflight] },
  { names: ['snapshot'], load: async () => [(await import('./snapshot.js')).registerSnapshot] },
  { names: ['detect'], load: async () => [(await import('./detect.js')).registerDetect] },
  { names: ['freeze', 'thaw'], load: async () => [(await import('./freeze.js')).registerFreeze] },
  {
    names: ['binlog'],
    load: async () => [
      (await import('./binlog.js')).registerBinlog,
      (await import('./binlog-archive.js')).registerBinlogArchive,
    ],
  },
  { names: ['backup'], load: async () => [(await import('./backup.js')).registerBackup] },
  { names: ['restore'], load: async () => [(await import('./restore.js')).registerRestore] },
  { names: ['verify'], load: async () => [(await import('./verify.js')).registerVerify] },
  { names: ['locate'], load: async () => [(await import('./locate.js')).registerLocate] },
  { names: ['impact'], load: async () => [(await import('./impact.js')).registerImpact] },
  { names: ['undo'], load: async () => [(await import('./undo.js')).registerUndo] },
  { names: ['recover'], load: async () => [(await import('./recover.js')).registerRecover] },
  { names: ['resume'], load: async () => [(await import('./resume.js')).registerResume] },
  { names: ['report'], load: async () => [(await import('./report.js')).registerReport] },
  { names: ['cutover'], load: async () => [(await import('./cutover.js')).registerCutover] },
  { names: ['demo'], load: async () => [(await import('./demo.js')).registerDemo] },
];

/**
 * The groups a command line needs: the one it names, none for a bare
 * `--version` (it loads nothing), or every group when it names none of
 * them (`--help`, `help`, a typo: the help and the error then list all).
 */
export function commandGroupsFor(argv: readonly string[]): readonly string[] {
  const name = argv.find((arg) => !arg.startsWith('-'));
  const named = GROUPS.filter((group) => name !== undefined && group.names.includes(name));
  if (named.length > 0) return named.map((group) => group.names[0] as string);
  const version = argv.includes('-V') || argv.includes('--version');
  if (name === undefined && version && !argv.includes('-h') && !argv.includes('--help')) return [];
  return GROUPS.map((group) => group.names[0] as string);
}

export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const wanted = new Set(commandGroupsFor(argv));
  for (const group of GROUPS.filter((g) => wanted.has(g.names[0] as string))) {
    for (const register of await group.load()) register(program);
  }
}
