/** The worker of verifyChecksumsAside: verifies one job and posts its verdict. */
import { parentPort, workerData } from 'node:worker_threads';
import { type ChecksumJob, checksumVerdict } from './checksums.js';

parentPort?.postMessage(await checksumVerdict(workerData as ChecksumJob));
