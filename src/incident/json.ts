/**
 * Values headed for the journal made plain JSON: row keys hold bigints and
 * buffers, which JSON.stringify refuses or mangles.
 */
import type { JsonObject, JsonValue } from './journal.js';

export function toJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Map) return toJsonObject(Object.fromEntries(value));
  if (typeof value === 'object') return toJsonObject(value as Record<string, unknown>);
  return String(value);
}

export function toJsonObject(value: object): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item);
  return out;
}
