/**
 * Restore environments: local sandbox servers made from the installed
 * MariaDB/MySQL binaries, with a registry shared by every salvage invocation.
 */
export {
  type FindBinariesOptions,
  findServerBinaries,
  type ServerBinaries,
  type ServerFlavor,
} from './binaries.js';
export { defaultBaseDir } from './registry.js';
export {
  attachSandbox,
  createSandbox,
  listSandboxes,
  removeOrphanedSandboxes,
  type Sandbox,
  type SandboxLifetime,
  type SandboxOptions,
  type SandboxRecord,
  type SandboxStatus,
} from './sandbox.js';
