/** The live-server binlog source (replication protocol); the binlog module re-exports it. */
export {
  openReplicationBatches,
  openReplicationChunks,
  openReplicationStream,
  type ReplicationStart,
  type ReplicationStreamOptions,
} from './replication-source.js';
