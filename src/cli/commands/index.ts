import type { Command } from 'commander';
import { registerBackup } from './backup.js';
import { registerBinlog } from './binlog.js';
import { registerBinlogArchive } from './binlog-archive.js';
import { registerDemo } from './demo.js';
import { registerDetect } from './detect.js';
import { registerFreeze } from './freeze.js';
import { registerImpact } from './impact.js';
import { registerLocate } from './locate.js';
import { registerPreflight } from './preflight.js';
import { registerRecover } from './recover.js';
import { registerReport } from './report.js';
import { registerRestore } from './restore.js';
import { registerResume } from './resume.js';
import { registerSandbox } from './sandbox.js';
import { registerSnapshot } from './snapshot.js';
import { registerUndo } from './undo.js';
import { registerVerify } from './verify.js';

/** Every command group, in the order of the runbook. */
export function registerCommands(program: Command): void {
  registerSandbox(program);
  registerPreflight(program);
  registerSnapshot(program);
  registerDetect(program);
  registerFreeze(program);
  registerBinlog(program);
  registerBinlogArchive(program);
  registerBackup(program);
  registerRestore(program);
  registerVerify(program);
  registerLocate(program);
  registerImpact(program);
  registerUndo(program);
  registerRecover(program);
  registerResume(program);
  registerReport(program);
  registerDemo(program);
  void program;
}
