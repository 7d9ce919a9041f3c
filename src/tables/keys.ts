/**
 * Primary keys: validated against the schema, then encoded into bytes whose unsigned byte order is
 * DynamoDB's order for the key type, so a store compares keys with plain BLOB (SQLite) or bytea
 * (PostgreSQL) comparisons and keeps one index per table whatever the key types:
 * - S: its UTF-8 bytes (DynamoDB orders strings by UTF-8 bytes);
 * - B: the bytes themselves;
 * - N: the IEEE-754 double, big-endian, with the sign bit flipped for positives and every bit flipped
 *   for negatives, which orders numerically. A number no double holds (a NumberValue, see
 *   expressions/numbers.ts) lies strictly between two adjacent doubles' decimals: it is encoded as the
 *   lower double's 8 bytes followed by an order-preserving encoding of its own decimal, so it sorts
 *   after that double, before the next one, and among the decimals between them by value. Keys of
 *   doubles keep the plain 8 bytes, so keys stored before NumberValues existed keep their meaning.
 * A table without a sort key stores the empty encoding as its sort key.
 */
import { SluiceError } from '../model/errors.js';
import {
  compareNumbers,
  isDynamoNumber,
  isNumberValue,
  normalizeNumberValue,
  type NumberValue,
} from './expressions/numbers.js';
import type { AttributeValue, Item, KeyValue } from './expressions/index.js';
import { tableLimits } from './definition.js';
import { type KeyAttribute, type KeyType, type TableDefinition } from '../store/table-definition.js';
import type { EncodedKey } from '../store/table-definition.js';

const emptyKey = Buffer.alloc(0);

const invalidKey = (message: string, field: string) =>
  new SluiceError('ValidationException', `One or more parameter values were invalid: ${message}`, { field });

function keyTypeOf(value: AttributeValue | undefined): KeyType | undefined {
  if (typeof value === 'string') return 'S';
  if (isDynamoNumber(value)) return 'N';
  if (value instanceof Uint8Array) return 'B';
  return undefined;
}

export function encodeKeyValue(value: KeyValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value !== 'number') return encodeExactNumber(value);
  return encodeDouble(value);
}

/** The double just below x (toward minus infinity); x is finite and not zero. */
function doubleBelow(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits - 1n : bits + 1n);
  return view.getFloat64(0);
}

function encodeExactNumber(value: NumberValue): Buffer {
  const nearest = Number(value.value);
  const below = compareNumbers(value, nearest) > 0 ? nearest : doubleBelow(nearest);
  return Buffer.concat([encodeDouble(below), decimalSuffix(value.value)]);
}

/**
 * An order-preserving encoding of a non-zero decimal among decimals of its sign: the exponent of its
 * first digit (biased, two bytes), then its significant digits as ASCII; every byte inverted and a 0xff
 * terminator for negatives, so a longer negative with the same leading digits sorts first.
 */
function decimalSuffix(text: string): Buffer {
  const negative = text.startsWith('-');
  const [mantissa = '', exponent = '0'] = (negative ? text.slice(1) : text).split(/e/i);
  const [whole = '', fraction = ''] = mantissa.split('.');
  const all = whole + fraction;
  const leading = all.length - all.replace(/^0+/, '').length;
  const digits = all.replace(/^0+/, '').replace(/0+$/, '');
  const firstExponent = whole.length - leading - 1 + Number(exponent) + 1000;
  const bytes = Buffer.concat([Buffer.from([firstExponent >> 8, firstExponent & 0xff]), Buffer.from(digits, 'latin1')]);
  if (!negative) return bytes;
  for (let i = 0; i < bytes.length; i++) bytes[i] = ~(bytes[i] as number) & 0xff;
  return Buffer.concat([bytes, Buffer.from([0xff])]);
}

function encodeDouble(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value === 0 ? 0 : value); // -0 and 0 are the same key
  const first = bytes[0] as number;
  if (first & 0x80) for (let i = 0; i < 8; i++) bytes[i] = ~(bytes[i] as number) & 0xff;
  else bytes[0] = first | 0x80;
  return bytes;
}

/** Checks one key attribute of an item or key map and returns its value. */
function keyPart(attribute: KeyAttribute, source: Item, field: string, maxBytes: number): KeyValue {
  const value = source[attribute.name];
  if (value === undefined) throw invalidKey(`Missing the key ${attribute.name} in the item`, field);
  const type = keyTypeOf(value);
  if (type !== attribute.type) {
    throw invalidKey(
      `Type mismatch for key ${attribute.name} expected: ${attribute.type} actual: ${type ?? 'other'}`,
      field,
    );
  }
  const keyValue = value as KeyValue;
  if (typeof keyValue === 'number' && !Number.isFinite(keyValue)) {
    throw invalidKey(`The number for key ${attribute.name} must be finite`, field);
  }
  if (isNumberValue(keyValue)) {
    // A key has one encoding per number: a NumberValue must be in its one form (expressions/numbers.ts).
    const form = normalizeNumberValue(keyValue, field);
    if (form === undefined || typeof form === 'number' || form.value !== keyValue.value) {
      throw invalidKey(
        `The number for key ${attribute.name} (NumberValue ${String(keyValue.value)}) is not in its one form${form === undefined ? '' : `: give it as ${typeof form === 'number' ? `the number ${form}` : `NumberValue ${form.value}`}`}`,
        field,
      );
    }
  }
  if ((typeof keyValue === 'string' || keyValue instanceof Uint8Array) && keyValue.length === 0) {
    throw invalidKey(
      `The AttributeValue for a key attribute cannot contain an empty value. Key: ${attribute.name}`,
      field,
    );
  }
  const size =
    typeof keyValue === 'string'
      ? Buffer.byteLength(keyValue)
      : keyValue instanceof Uint8Array
        ? keyValue.length
        : 0;
  if (size > maxBytes) {
    throw invalidKey(`Size of key ${attribute.name} is ${size} bytes; the limit is ${maxBytes} bytes`, field);
  }
  return keyValue;
}

/** The key attributes of a full item (for a put), validated. */
export function keyOfItem(definition: TableDefinition, item: Item, field = 'Item'): Item {
  const key: Record<string, AttributeValue> = {};
  key[definition.partitionKey.name] = keyPart(
    definition.partitionKey,
    item,
    field,
    tableLimits.maxPartitionKeyBytes,
  );
  if (definition.sortKey)
    key[definition.sortKey.name] = keyPart(definition.sortKey, item, field, tableLimits.maxSortKeyBytes);
  return key;
}

/** A key map given by a caller (get, delete, update): exactly the schema's attributes. */
export function validateKey(definition: TableDefinition, key: Item, field = 'Key'): Item {
  const expected = definition.sortKey ? 2 : 1;
  if (typeof key !== 'object' || key === null || Object.keys(key).length !== expected) {
    throw invalidKey('The provided key element does not match the schema', field);
  }
  return keyOfItem(definition, key, field);
}

export function encodeKey(definition: TableDefinition, key: Item): EncodedKey {
  return {
    pk: encodeKeyValue(key[definition.partitionKey.name] as KeyValue),
    sk: definition.sortKey ? encodeKeyValue(key[definition.sortKey.name] as KeyValue) : emptyKey,
  };
}

/** The smallest encoding greater than every encoding starting with `prefix`; undefined when none is. */
export function prefixUpperBound(prefix: Buffer): Buffer | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const bound = Buffer.from(prefix.subarray(0, end));
  bound[end - 1] = (bound[end - 1] as number) + 1;
  return bound;
}

/** A stable identity for a key inside one table (maps, sets, duplicate detection). */
export function keyIdentity(key: EncodedKey): string {
  return `${key.pk.toString('base64')}|${key.sk.toString('base64')}`;
}
