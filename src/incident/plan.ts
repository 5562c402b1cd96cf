/**
 * The recovery plan: for each strategy, what it loses and what it keeps, and
 * which one to take and why. Decided from measured facts only (the binlog's
 * activity, the impact, the backups), never from guesses.
 */
import { SalvageError } from '../errors.js';

export const STRATEGIES = ['pitr', 'surgical', 'undo'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Good writes a strategy gives up: the RPO. */
export interface Loss {
  readonly transactions: number;
  readonly rows: number;
  /** Seconds of writes, from the first to the last lost transaction. */
  readonly seconds: number;
}

export interface StrategyOption {
  readonly strategy: Strategy;
  readonly feasible: boolean;
  /** Why it cannot be used, when not feasible. */
  readonly blocked_by: string | null;
  readonly lost: Loss;
  /** Good transactions after the bad change that survive. */
  readonly kept: { readonly transactions: number; readonly rows: number };
  /** Rows changed again after the bad change: their later value is built on damaged data. */
  readonly rows_to_review: number;
  /** Where the recovered data ends up. */
  readonly result: 'new server' | 'source, in place';
  readonly summary: string;
}

/** What the plan is decided from. */
export interface PlanFacts {
  readonly bad: { readonly transactions: number; readonly rows: number; readonly schema_changes: number };
  /** Good transactions after the first bad one. */
  readonly after: Loss;
  /** Later writes to rows the bad change touched (impact's conflict set). */
  readonly conflicts: number;
  /** The backup a restore would start from, null when there is none before the bad change. */
  readonly backup: string | null;
}

export interface RecoveryPlan {
  readonly options: readonly StrategyOption[];
  readonly recommended: Strategy;
  readonly why: string;
  /** The strategy this incident follows: the user's --strategy, else the recommended one. */
  readonly chosen: Strategy;
}

const NOTHING: Loss = { transactions: 0, rows: 0, seconds: 0 };

export function planRecovery(facts: PlanFacts, requested?: Strategy): RecoveryPlan {
  const noBackup = facts.backup === null ? 'no backup taken before the bad change' : null;
  const later = { transactions: facts.after.transactions, rows: facts.after.rows };
  const options: StrategyOption[] = [
    {
      strategy: 'pitr',
      feasible: noBackup === null,
      blocked_by: noBackup,
      lost: facts.after,
      kept: { transactions: 0, rows: 0 },
      rows_to_review: 0,
      result: 'new server',
      summary: `restore backup ${facts.backup ?? '(none)'} and replay up to just before the bad change; the ${facts.after.transactions} transactions after it are lost`,
    },
    {
      strategy: 'surgical',
      feasible: noBackup === null,
      blocked_by: noBackup,
      lost: NOTHING,
      kept: later,
      rows_to_review: facts.conflicts,
      result: 'new server',
      summary: `restore backup ${facts.backup ?? '(none)'} and replay everything except the ${facts.bad.transactions} bad transaction(s)`,
    },
    {
      strategy: 'undo',
      feasible: facts.bad.schema_changes === 0,
      blocked_by:
        facts.bad.schema_changes > 0
          ? 'the bad change altered the schema; the binlog holds no before-image of it'
          : null,
      lost: NOTHING,
      kept: later,
      rows_to_review: facts.conflicts,
      result: 'source, in place',
      summary: `write compensating statements for the ${facts.bad.rows} changed rows, test them on a clone, apply them to the source; rows changed again later are left as they are`,
    },
  ];
  const { recommended, why } = recommend(facts, options);
  const chosen = requested ?? recommended;
  const option = options.find((o) => o.strategy === chosen)!;
  if (!option.feasible) {
    throw new SalvageError('BAD_INPUT', `Strategy ${chosen} cannot be used here: ${option.blocked_by}.`, {
      hint: `Use --strategy ${recommended} (${why}).`,
    });
  }
  return { options, recommended, why, chosen };
}

function recommend(
  facts: PlanFacts,
  options: readonly StrategyOption[],
): { recommended: Strategy; why: string } {
  const feasible = (s: Strategy) => options.find((o) => o.strategy === s)!.feasible;
  if (feasible('undo') && facts.conflicts === 0) {
    return {
      recommended: 'undo',
      why: 'no later write touched the damaged rows, so the change can be reversed in place: nothing is lost and no cutover is needed',
    };
  }
  if (feasible('surgical')) {
    return {
      recommended: 'surgical',
      why:
        facts.conflicts === 0
          ? `it keeps all ${facts.after.transactions} later transactions and loses nothing`
          : `it keeps all ${facts.after.transactions} later transactions; ${facts.conflicts} rows changed again after the bad change must be reviewed`,
    };
  }
  if (feasible('undo')) {
    return { recommended: 'undo', why: 'there is no backup before the bad change to restore from' };
  }
  throw new SalvageError(
    'BAD_INPUT',
    'No strategy can recover this: there is no backup before the bad change and it altered the schema.',
    {
      hint: 'Restore an older backup by hand (salvage backup list) or a replica that has not applied the change.',
    },
  );
}
