/** salvage undo: compensating SQL for the bad transactions, conflict-aware, rehearsed on a sandbox first. */
import { dirname, join } from 'node:path';
import { type Command, Option } from 'commander';
import { expandGtids } from '../../binlog/index.js';
import { isSalvageError, SalvageError } from '../../errors.js';
import { describeTarget, withConnection } from '../../mysql/index.js';
import {
  affectedTables,
  applySchemaLossScript,
  applyUndo,
  type ConflictPolicy,
  planUndo,
  recoverSchemaLoss,
  rehearseUndo,
  tableChecksums,
  undoScript,
  undoScriptLines,
  writeFileAtomically,
} from '../../undo/index.js';
import { addConnectionOptions, type ConnectionFlags, connectTarget } from '../connection-options.js';
import { createOutput } from '../output.js';
import { globalOptions } from '../program.js';
import { binlogSelection, type ChangeSourceFlags, collect } from './impact.js';

interface UndoFlags extends ConnectionFlags, ChangeSourceFlags {
  readonly source: string;
  readonly gtid: string[];
  readonly out?: string;
  readonly onConflict?: ConflictPolicy;
  readonly apply: boolean;
  readonly yes: boolean;
  readonly testOn?: 'sandbox';
  readonly assert?: string;
  readonly repo?: string;
}

export function registerUndo(program: Command): void {
  const command = program
    .command('undo')
    .description(
      'compensating SQL for bad transactions from the binlog; never overwrites a later write silently',
    )
    .requiredOption('--source <dsn>', 'the server the bad transactions ran on')
    .option(
      '--gtid <gtid>',
      'a bad transaction (repeatable; also 0-1-100..0-1-250, uuid:100-250, or a comma list)',
      collect,
      [],
    )
    .option('--binlog <files...>', 'read these binlog files instead of the server')
    .option('--dir <dir>', 'read the binlogs of this directory instead of the server')
    .option('--out <file.sql>', 'write the undo script here')
    .addOption(
      new Option(
        '--on-conflict <policy>',
        'rows changed since: skip them, abort, or force over them',
      ).choices(['skip', 'abort', 'force']),
    )
    .option('--apply', 'apply the undo on the source in one transaction', false)
    .option('--yes', 'confirm --apply (without it the plan is shown and nothing changes)', false)
    .addOption(
      new Option('--test-on <where>', 'rehearse on a copy of the affected tables first').choices(['sandbox']),
    )
    .option('--assert <file.sql>', 'queries that must return no rows after the rehearsal')
    .option(
      '--repo <url>',
      "the source's backup repository: the rehearsal runs on a whole clone restored from it, and what schema changes (DROP, TRUNCATE, DROP COLUMN, narrowing ALTER) lost is brought back from it",
    );
  addConnectionOptions(command).action(async (flags: UndoFlags, self: Command) => {
    const out = createOutput(globalOptions(self).json);
    if (flags.gtid.length === 0) throw new SalvageError('USAGE', 'name the bad transactions with --gtid.');
    if (flags.assert !== undefined && flags.testOn === undefined) {
      throw new SalvageError('USAGE', '--assert runs on the rehearsal: add --test-on sandbox.');
    }
    const gtids = expandGtids(flags.gtid);
    const target = connectTarget(flags.source, flags);
    const header = { source: describeTarget(target), title: `salvage undo of ${flags.gtid.join(', ')}` };
    const binlog = binlogSelection(flags) ?? { server: target, until: 'end' as const };
    await withConnection(target, async (conn) => {
      const planned = await planUndo({
        gtids,
        binlog,
        conn,
        onConflict: flags.onConflict,
      }).catch((error: unknown) => {
        // Schema changes have no before-image: with a repository, what they lost comes back from a backup.
        if (flags.repo !== undefined && isSalvageError(error) && error.code === 'UNDO_DDL') return undefined;
        throw error;
      });
      if (planned === undefined) {
        const script = flags.out ?? `salvage-schema-restore-${Date.now()}.sql`;
        const recovery = await recoverSchemaLoss({
          source: target,
          conn,
          gtids,
          binlog,
          repo: flags.repo as string,
          out: script,
        });
        const apply = flags.apply && flags.yes;
        if (apply) await applySchemaLossScript(target, script);
        out.document({
          schemaChanges: recovery.changes.map((c) => ({
            gtid: c.gtid,
            kind: c.kind,
            statement: c.statement,
            tables: c.tables,
          })),
          tables: recovery.tables,
          backup: recovery.backup,
          restoredBefore: recovery.before,
          out: script,
          applied: apply,
        });
        for (const t of recovery.tables) {
          out.line(
            `${t.table}: ${t.action}${t.columns.length ? ` (${t.columns.join(', ')})` : ''}, ${t.rows} rows from backup ${recovery.backup}`,
          );
        }
        out.line(
          apply
            ? `applied ${script} to ${describeTarget(target)}`
            : `copy-back script written to ${script}; review it, then run again with --apply --yes`,
        );
        return;
      }
      const plan = planned;
      const summary = {
        statements: plan.statements.length,
        rows: plan.rows,
        changes: plan.changes,
        stepwise: Object.fromEntries(plan.stepwise),
        conflicts: plan.conflicts,
        transactions: plan.transactions.map((t) => t.gtid),
      };
      for (const [table, reason] of plan.stepwise) {
        out.note(`salvage: ${table} is undone change by change, newest first: ${reason}`);
      }
      for (const c of plan.conflicts) {
        out.line(
          c.reason === 'unique-key'
            ? `conflict: ${c.table} ${JSON.stringify(c.key)} (bad ${c.gtid}) cannot be written back: another row holds its unique key now: ${JSON.stringify(c.current)}`
            : `conflict: ${c.table} ${JSON.stringify(c.key)} (bad ${c.gtid}) changed later by ${c.later.join(', ') || 'an unknown writer'}; now ${JSON.stringify(c.current)}`,
        );
      }
      const blocked =
        plan.conflicts.length > 0 && (flags.onConflict === undefined || flags.onConflict === 'abort');
      if (blocked) {
        out.document({ ...summary, applied: false });
        out.line(
          `${plan.conflicts.length} conflicting rows: nothing written. Choose --on-conflict skip|abort|force.`,
        );
        process.exitCode = 1;
        return;
      }
      if (flags.apply && !flags.yes) {
        const script = undoScript(plan, header);
        out.document({ ...summary, applied: false, plan: script });
        out.line(script);
        out.line('-- the plan above was not applied: add --yes to apply it.');
        return;
      }
      if (flags.out !== undefined) await writeFileAtomically(flags.out, undoScriptLines(plan, header));
      if (!flags.apply) {
        out.document({ ...summary, out: flags.out ?? null, applied: false });
        if (flags.out === undefined) out.line(undoScript(plan, header).trimEnd());
        else {
          out.line(
            `${plan.statements.length} statements for ${plan.rows} rows (${plan.changes} row changes) written to ${flags.out}`,
          );
        }
        return;
      }
      let rehearsal: Awaited<ReturnType<typeof rehearseUndo>> | undefined;
      if (flags.testOn === 'sandbox') {
        out.note(
          flags.repo === undefined
            ? 'salvage: rehearsing the undo on a sandbox copy of the affected tables'
            : 'salvage: rehearsing the undo on a sandbox clone restored from the repository',
        );
        rehearsal = await rehearseUndo({
          source: target,
          plan,
          header,
          assertFile: flags.assert,
          repo: flags.repo,
        });
      }
      const savePrefix = flags.out
        ? flags.out.replace(/\.sql$/i, '')
        : join(dirname('.'), `salvage-undo-${Date.now()}`);
      const applied = await applyUndo(conn, plan, { savePrefix, header });
      const checksums = rehearsal ? await tableChecksums(conn, affectedTables(plan)) : undefined;
      const sameAsRehearsal =
        rehearsal && checksums
          ? JSON.stringify(checksums) === JSON.stringify(rehearsal.checksums)
          : undefined;
      out.document({
        ...summary,
        out: flags.out ?? null,
        applied: true,
        saved: applied.saved,
        rehearsal: rehearsal?.clone ?? null,
        sameAsRehearsal,
      });
      out.line(
        `applied ${applied.statements} statements to ${applied.rows} rows; rows as they were saved in ${applied.saved.join(', ')}`,
      );
      if (sameAsRehearsal === false)
        out.note('salvage: warning: the source checksums differ from the rehearsal (writes since?)');
    });
  });
}
