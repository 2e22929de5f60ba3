/**
 * Entity and request size estimates. Two different counts matter:
 * - Azure's own entity size (1 MiB limit): 4 bytes + 2 × key lengths + for each property 8 bytes + 2 × name length
 *   + value (strings UTF-16 + 4, binary bytes + 4, numbers 8, booleans 1).
 * - The serialized JSON (what Azurite measures against 1 MiB per entity, and what counts toward the 4 MiB
 *   request body of a transaction): base64 makes binary 4/3 larger, and each binary property carries an
 *   `@odata.type` annotation.
 * Stores keep every entity under both, with a margin.
 */

export const MAX_PROPERTY_BYTES = 64 * 1024;
export const MAX_ENTITY_BYTES = 1024 * 1024;
/** Azure's limit on custom properties (PartitionKey, RowKey and Timestamp are the other three of 255). */
export const MAX_CUSTOM_PROPERTIES = 252;
/** Budget each entity is planned against: the 1 MiB limit less a margin for what we do not count exactly. */
export const ENTITY_BUDGET_BYTES = MAX_ENTITY_BYTES - 64 * 1024;

export type EntityValue = string | number | boolean | Uint8Array;

export interface PlainEntity {
  readonly partitionKey: string;
  readonly rowKey: string;
  readonly [property: string]: EntityValue;
}

const KEY_PROPERTIES = new Set(['partitionKey', 'rowKey']);

function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/** True when JSON.stringify(value) is the value between quotes, one byte per character (printable ASCII, no " or \\). */
function isPlainAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** UTF-8 bytes of JSON.stringify(value): printable ASCII without quote or backslash is its length plus quotes. */
function jsonStringBytes(value: string): number {
  if (isPlainAscii(value)) return value.length + 2;
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Azure's count for one property value. */
function azureValueSize(value: EntityValue): number {
  if (typeof value === 'string') return value.length * 2 + 4;
  if (value instanceof Uint8Array) return value.byteLength + 4;
  if (typeof value === 'boolean') return 1;
  return 8;
}

/** Serialized JSON bytes of one `"name":value,` pair, comma included (plus its type annotation for binary). */
function wireValueSize(name: string, value: EntityValue): number {
  const nameBytes = jsonStringBytes(name);
  if (typeof value === 'string') return nameBytes + 2 + jsonStringBytes(value);
  if (value instanceof Uint8Array) {
    return (
      nameBytes + 2 + base64Length(value.byteLength) + 2 + nameBytes + '@odata.type'.length + 2 + '"Edm.Binary"'.length
    );
  }
  return nameBytes + 2 + String(value).length;
}

export function customPropertyCount(entity: PlainEntity): number {
  return Object.keys(entity).filter((k) => !KEY_PROPERTIES.has(k)).length;
}

/** Azure's entity size. */
export function azureEntitySize(entity: PlainEntity): number {
  let size = 4 + 2 * (entity.partitionKey.length + entity.rowKey.length);
  for (const name of Object.keys(entity)) {
    if (KEY_PROPERTIES.has(name)) continue;
    size += 8 + 2 * name.length + azureValueSize(entity[name] as EntityValue);
  }
  return size;
}

/** Serialized JSON size of the entity (UTF-8 bytes). */
export function wireEntitySize(entity: PlainEntity): number {
  let size = 2 + wireValueSize('PartitionKey', entity.partitionKey) + wireValueSize('RowKey', entity.rowKey);
  for (const name of Object.keys(entity)) {
    if (KEY_PROPERTIES.has(name)) continue;
    size += wireValueSize(name, entity[name] as EntityValue);
  }
  // Each pair was counted with a trailing comma; the last one has none.
  return size - 1;
}

/** The larger of the two counts: what an entity is planned against. */
export function plannedEntitySize(entity: PlainEntity): number {
  return Math.max(azureEntitySize(entity), wireEntitySize(entity));
}

/** True when the entity respects the 252-property limit and fits the entity budget. */
export function fitsInEntity(entity: PlainEntity): boolean {
  return customPropertyCount(entity) <= MAX_CUSTOM_PROPERTIES && plannedEntitySize(entity) <= ENTITY_BUDGET_BYTES;
}
