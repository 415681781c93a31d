/**
 * A record's own entry, or undefined. Names from configuration and payloads become record keys, and a handle
 * such as "constructor" must not find Object.prototype's members.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}
