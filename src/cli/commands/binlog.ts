/** salvage binlog timeline|rows: what happened, transaction by transaction and row by row. */
import type { Command } from 'commander';
import {
  type BinlogInput,
  type BinlogNotice,
  eventTypeName,
  type RowCounts,
  readBinlogBatches,
  rowsEventLines,
  type Transaction,
  TransactionAssembler,
} from '../../binlog/index.js';
import { SalvageError } from '../../errors.js';
import { describeAllTables, withConnection } from '../../mysql/index.js';
import {
  formatInstant,
  matchesTransaction,
  parseTime,
  statementPattern,
  systemTimeZone,
  type TimelineFilter,
} from '../../timeline/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput, isStdoutClosed, type Output, stdoutDrained, writeOut } from '../output.js';
import { globalOptions } from '../program.js';

interface SourceFlags extends ConnectionFlags {
  readonly dir?: string;
  readonly source?: string;
  /** commander's --no-verify sets verify to false. */
  readonly verify: boolean;
}

interface TimelineFlags extends SourceFlags {
  readonly since?: string;
  readonly until?: string;
  readonly tz?: string;
  readonly table: string[];
  readonly grep?: string;
  readonly gtid: string[];
}

interface RowsFlags extends SourceFlags {
  readonly gtid: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function addSourceOptions(command: Command): Command {
  command
    .argument('[files...]', 'binary log files, in order')
    .option('--dir <dir>', 'a directory of binary logs (its *.index, else every NAME.NNNNNN binlog)')
    .option('--source <dsn>', 'read from a live server over the replication protocol, mysql://user@host:port')
    .option('--no-verify', 'read events whose CRC32 does not match instead of stopping')
    .option('--gtid <gtid>', 'only this transaction (repeatable)', collect, []);
  return addConnectionOptions(command);
}

export function registerBinlog(program: Command): void {
  const binlog = program.command('binlog').description('read, search and archive binary logs');

  const timeline = binlog
    .command('timeline')
    .description('one line per transaction: when, GTID, position, rows changed per table, statement')
    .option(
      '--since <time>',
      'from this time (YYYY-MM-DD HH:MM:SS[.ffffff] in --tz, ISO 8601 with offset, or @epoch)',
    )
    .option('--until <time>', 'up to this time (inclusive)')
    .option('--tz <zone>', 'IANA time zone for --since/--until and printed times (default: the system zone)')
    .option(
      '--table <db.table>',
      'only transactions that changed rows of this table (repeatable; db.* for a database)',
      collect,
      [],
    )
    .option('--grep <regex>', 'only transactions with a statement matching this regular expression');
  addSourceOptions(timeline).action(async (files: string[], flags: TimelineFlags, self: Command) => {
    const out = createOutput(globalOptions(self).json);
    const needsZone = !out.json || flags.since !== undefined || flags.until !== undefined;
    // Intl's zone lookup costs ~0.1 s at startup: only when times are read or printed.
    const zone = flags.tz ?? (needsZone ? systemTimeZone() : 'UTC');
    if (flags.tz === undefined && needsZone)
      out.note(`salvage: times are in ${zone} (the system zone; use --tz to choose)`);
    const filter: TimelineFilter = {
      since: flags.since === undefined ? undefined : parseTime(flags.since, zone),
      until: flags.until === undefined ? undefined : parseTime(flags.until, zone),
      tables: flags.table,
      grep: flags.grep === undefined ? undefined : statementPattern(flags.grep),
      gtids: flags.gtid,
    };
    const batches = readBinlogBatches(binlogInput(files, flags), {
      verify: flags.verify,
      onNotice: noticePrinter(out),
    });
    const sink = chunkedStdout();
    const assembler = new TransactionAssembler(true);
    /** True when stdout is full. */
    const print = (tx: Transaction | undefined): boolean =>
      tx !== undefined &&
      matchesTransaction(tx, filter) &&
      sink.push(out.json ? transactionJson(tx) : transactionLine(tx, zone));
    // Events a batch at a time, synchronously: an await per event costs more than decoding it.
    for await (const batch of batches) {
      let full = false;
      for (const event of batch) full = print(assembler.push(event)) || full;
      if (full) await stdoutDrained();
      if (isStdoutClosed()) break;
    }
    if (!isStdoutClosed()) print(assembler.finish());
    sink.end();
  });

  const rows = binlog
    .command('rows')
    .description(
      'one line per changed row (NDJSON with --json): gtid, position, table, operation, before and after',
    );
  addSourceOptions(rows).action(async (files: string[], flags: RowsFlags, self: Command) => {
    const out = createOutput(globalOptions(self).json);
    const input = binlogInput(files, flags);
    // MINIMAL row metadata has no column names: a live server can supply them.
    const liveSchema = 'server' in input ? await withConnection(input.server, describeAllTables) : new Map();
    const batches = readBinlogBatches(input, {
      verify: flags.verify,
      onNotice: noticePrinter(out),
      liveSchema,
    });
    const gtids = flags.gtid.length > 0 ? new Set(flags.gtid) : undefined;
    const sink = chunkedStdout();
    const assembler = new TransactionAssembler(false);
    // The NDJSON line is the human form too: one self-describing row per line.
    // Batches are handled synchronously, like the timeline: row images are
    // views into the read buffer, valid until the next batch is requested.
    for await (const batch of batches) {
      let full = false;
      for (const event of batch) {
        assembler.push(event, 0);
        if (event.kind !== 'rows') continue;
        const gtid = assembler.current?.gtid;
        if (gtids && (gtid === undefined || !gtids.has(gtid))) continue;
        full = sink.push(rowsEventLines(gtid, event)) || full;
      }
      if (full) await stdoutDrained();
      if (isStdoutClosed()) break;
    }
    sink.end();
  });
}

function binlogInput(files: string[], flags: SourceFlags): BinlogInput {
  const given = [files.length > 0, flags.dir !== undefined, flags.source !== undefined].filter(
    Boolean,
  ).length;
  if (given !== 1) {
    throw new SalvageError('USAGE', 'give exactly one source: binlog FILE..., --dir DIR or --source DSN');
  }
  if (flags.source !== undefined) return { server: connectTarget(flags.source, flags), until: 'end' };
  if (flags.dir !== undefined) return { dir: flags.dir };
  return { files };
}

function noticePrinter(out: Output): (notice: BinlogNotice) => void {
  return (notice) => {
    if (notice.kind === 'column-facts-missing') {
      out.note(`salvage: warning: ${notice.reason}`);
    } else if (notice.kind === 'truncated') {
      out.note(
        `salvage: warning: ${notice.file} ends inside the event at ${notice.position} (${notice.missingBytes} bytes missing): it is still being written or was cut; read up to the last whole event`,
      );
    } else {
      out.note(
        `salvage: warning: skipped ${eventTypeName(notice.type)} events (type ${notice.type}), first at ${notice.file}:${notice.position}: salvage cannot decode them`,
      );
    }
  };
}

/**
 * The NDJSON line of a transaction, written out by hand: the same text as
 * JSON.stringify of {gtid, file, start, end, ts, tsSource, serverId,
 * threadId, statement, rows, complete} without building that object per
 * transaction. Table keys always hold a dot, so none is an array index that
 * JSON.stringify would have moved to the front.
 */
function transactionJson(tx: Transaction): string {
  let rows = '';
  for (const table in tx.rows) {
    const c = tx.rows[table] as RowCounts;
    rows += `${rows === '' ? '' : ','}${quoted(table)}:{"insert":${c.insert},"update":${c.update},"delete":${c.delete}}`;
  }
  const statement = tx.statements.length > 0 ? JSON.stringify(tx.statements.join(';\n')) : 'null';
  return `{"gtid":${tx.gtid === undefined ? 'null' : JSON.stringify(tx.gtid)},"file":${quoted(tx.file)},"start":${tx.start},"end":${tx.end},"ts":${tx.ts},"tsSource":"${tx.tsSource}","serverId":${tx.serverId},"threadId":${tx.threadId ?? 'null'},"statement":${statement},"rows":{${rows}},"complete":${tx.complete}}\n`;
}

const quotedNames = new Map<string, string>();

/** A file or table name as a JSON string, cached: a binlog names few of them. */
function quoted(name: string): string {
  let text = quotedNames.get(name);
  if (text === undefined) {
    text = JSON.stringify(name);
    if (quotedNames.size < 10_000) quotedNames.set(name, text);
  }
  return text;
}

function transactionLine(tx: Transaction, zone: string): string {
  const counts = Object.entries(tx.rows)
    .map(([table, c]) => `${table} +${c.insert} ~${c.update} -${c.delete}`)
    .join(', ');
  const statement = (tx.statements[0] ?? '').replace(/\s+/g, ' ').slice(0, 100);
  const parts = [
    formatInstant(tx.ts, zone),
    tx.gtid ?? '-',
    `${tx.file}:${tx.start}-${tx.end}`,
    counts || '(no rows)',
    statement,
  ];
  if (!tx.complete) parts.push('[incomplete]');
  return `${parts.join('  ')}\n`;
}

/**
 * Output collected into large writes. `push` returns true when stdout is
 * full and the caller must await stdoutDrained() (no promise per line).
 */
function chunkedStdout(): { push(text: string): boolean; end(): void } {
  const limit = 1 << 16;
  let pending = '';
  return {
    push(text) {
      pending += text;
      if (pending.length < limit) return false;
      const ok = writeOut(pending);
      pending = '';
      return !ok;
    },
    end() {
      if (pending.length > 0) writeOut(pending);
      pending = '';
    },
  };
}
