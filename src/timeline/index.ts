/** The timeline: binlog transactions queried by time, table, statement text and GTID. */
export { matchesTransaction, queryTimeline, type TimelineFilter } from './filter.js';
export { statementPattern } from './pattern.js';
export { formatInstant, parseTime, systemTimeZone, zoneOffsetMs } from './time.js';
