/**
 * Attribute values as Sluice's table API carries them: plain JSON plus binary and sets.
 *
 * DynamoDB type ← JavaScript value: S ← string, N ← number, BOOL ← boolean, NULL ← null,
 * B ← Uint8Array (Buffer included), L ← array, M ← plain object, SS/NS/BS ← a non-empty `Set` of
 * strings, numbers or Uint8Arrays. Sets cannot round-trip through JSON, so a store that persists
 * items as JSON must encode them itself.
 *
 * Comparison follows DynamoDB: only S, N and B are ordered, and only against the same type; strings
 * order by UTF-8 bytes (which is code point order), binary by unsigned bytes, numbers numerically.
 * Numbers are DynamoDB's exact decimals (numbers.ts): a `number` when the double's shortest form is the
 * decimal, a `NumberValue` otherwise; sets of numbers may hold both.
 */
import { compareNumbers, isNumberValue, normalizeNumberValue, numbersEqual, NumberValue, type DynamoNumber } from './numbers.js';

export type ScalarValue = string | DynamoNumber | boolean | null | Uint8Array;

export type SetValue = ReadonlySet<string> | ReadonlySet<DynamoNumber> | ReadonlySet<Uint8Array>;

export type AttributeValue = ScalarValue | readonly AttributeValue[] | AttributeMap | SetValue;

export interface AttributeMap {
  readonly [name: string]: AttributeValue;
}

/** An item is a map of top-level attribute names to values. */
export type Item = AttributeMap;

export type AttributeType = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'L' | 'M' | 'SS' | 'NS' | 'BS';

export const attributeTypes: readonly AttributeType[] = [
  'S',
  'N',
  'B',
  'BOOL',
  'NULL',
  'L',
  'M',
  'SS',
  'NS',
  'BS',
];

/** The DynamoDB type of a value, or undefined for a missing value or one outside the data model. */
export function typeOf(value: AttributeValue | undefined): AttributeType | undefined {
  switch (typeof value) {
    case 'string':
      return 'S';
    case 'number':
      return 'N';
    case 'boolean':
      return 'BOOL';
    case 'object':
      if (value === null) return 'NULL';
      if (Array.isArray(value)) return 'L';
      if (value instanceof Uint8Array) return 'B';
      if (value instanceof NumberValue) return 'N';
      if (value instanceof Set) return setType(value);
      return 'M';
    default:
      return undefined;
  }
}

function setType(set: ReadonlySet<unknown>): 'SS' | 'NS' | 'BS' | undefined {
  for (const element of set) {
    if (typeof element === 'string') return 'SS';
    if (typeof element === 'number' || element instanceof NumberValue) return 'NS';
    if (element instanceof Uint8Array) return 'BS';
    return undefined;
  }
  return undefined;
}

export function isMap(value: unknown): value is AttributeMap {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Set) &&
    !(value instanceof NumberValue)
  );
}

export function isSet(value: unknown): value is SetValue {
  return value instanceof Set;
}

export const hasOwn = (map: object, key: string): boolean => Object.prototype.hasOwnProperty.call(map, key);

/** Orders two UTF-16 code units as their code points' UTF-8 encodings would order. */
function utf8Rank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Compares strings by UTF-8 bytes without encoding them. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = (a[i] as number) - (b[i] as number);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/** Orders two S, two N or two B values; undefined when the pair is not comparable. */
export function compareOrdered(
  a: AttributeValue | undefined,
  b: AttributeValue | undefined,
): number | undefined {
  if (typeof a === 'string') return typeof b === 'string' ? compareStrings(a, b) : undefined;
  if (typeof a === 'number' || a instanceof NumberValue)
    return typeof b === 'number' || b instanceof NumberValue ? compareNumbers(a, b) : undefined;
  if (a instanceof Uint8Array) return b instanceof Uint8Array ? compareBytes(a, b) : undefined;
  return undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function setHas(set: SetValue, element: AttributeValue): boolean {
  if (element instanceof NumberValue) {
    for (const member of set as ReadonlySet<unknown>) {
      if (member instanceof NumberValue && numbersEqual(member, element)) return true;
    }
    return false;
  }
  if (!(element instanceof Uint8Array)) return (set as ReadonlySet<unknown>).has(element);
  for (const member of set as ReadonlySet<unknown>) {
    if (member instanceof Uint8Array && bytesEqual(member, element)) return true;
  }
  return false;
}

/** Deep equality with DynamoDB's rules: types must match, maps and sets ignore order. */
export function valuesEqual(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === b) return a !== undefined;
  if (a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valuesEqual(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Uint8Array) return b instanceof Uint8Array && bytesEqual(a, b);
  if (a instanceof NumberValue) return b instanceof NumberValue && numbersEqual(a, b);
  if (b instanceof NumberValue) return false;
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size || typeOf(a) !== typeOf(b)) return false;
    for (const element of a as ReadonlySet<AttributeValue>) if (!setHas(b, element)) return false;
    return true;
  }
  if (!isMap(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!hasOwn(b, key) || !valuesEqual((a as AttributeMap)[key], b[key])) return false;
  }
  return true;
}

/**
 * DynamoDB's `size()`: UTF-16 code units of a string (what DynamoDB reports, not UTF-8 bytes), bytes
 * of a binary, elements of a list or set, entries of a map; undefined for other types.
 */
export function sizeOf(value: AttributeValue | undefined): number | undefined {
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null || value instanceof NumberValue) return undefined;
  if (Array.isArray(value)) return value.length;
  if (value instanceof Uint8Array) return value.length;
  if (value instanceof Set) return value.size;
  return Object.keys(value).length;
}

export function beginsWith(value: AttributeValue | undefined, prefix: AttributeValue | undefined): boolean {
  if (typeof value === 'string') return typeof prefix === 'string' && value.startsWith(prefix);
  if (value instanceof Uint8Array && prefix instanceof Uint8Array) {
    return prefix.length <= value.length && bytesEqual(value.subarray(0, prefix.length), prefix);
  }
  return false;
}

function bytesInclude(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let i = 0; i < needle.length; i++) if (haystack[start + i] !== needle[i]) continue outer;
    return true;
  }
  return false;
}

/** `contains()`: substring of a string or binary, element of a set or list. */
export function containsValue(
  value: AttributeValue | undefined,
  operand: AttributeValue | undefined,
): boolean {
  if (operand === undefined) return false;
  if (typeof value === 'string') return typeof operand === 'string' && value.includes(operand);
  if (typeof value !== 'object' || value === null || value instanceof NumberValue) return false;
  if (value instanceof Uint8Array) return operand instanceof Uint8Array && bytesInclude(value, operand);
  if (value instanceof Set) return setHas(value, operand);
  if (Array.isArray(value)) {
    for (const element of value as readonly AttributeValue[]) if (valuesEqual(element, operand)) return true;
  }
  return false;
}

/** A deep copy, so an item returned by an update never shares containers with its inputs. */
export function cloneValue<T extends AttributeValue>(value: T): T {
  // NumberValues are never changed once made: shared like strings.
  if (typeof value !== 'object' || value === null || value instanceof NumberValue) return value;
  if (Array.isArray(value))
    return value.map((element: AttributeValue) => cloneValue(element)) as unknown as T;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Set) return new Set(value as ReadonlySet<unknown>) as unknown as T;
  const copy: Record<string, AttributeValue> = {};
  for (const key of Object.keys(value))
    defineEntry(copy, key, cloneValue((value as AttributeMap)[key] as AttributeValue));
  return copy as unknown as T;
}

/** Assigns an own data property, even for `__proto__`, which plain assignment would treat as the prototype. */
export function defineEntry(map: Record<string, AttributeValue>, key: string, value: AttributeValue): void {
  if (key === '__proto__') {
    Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    map[key] = value;
  }
}

/** Renders a value the way DynamoDB's messages do: `{N:5}`, `{S:abc}`. */
export function describeValue(value: AttributeValue): string {
  const type = typeOf(value) ?? '?';
  if (value instanceof Uint8Array) return `{${type}:${Buffer.from(value).toString('base64')}}`;
  if (value instanceof NumberValue) return `{N:${value.value}}`;
  if (typeof value === 'object' && value !== null) return `{${type}:${JSON.stringify(value, jsonReplacer)}}`;
  return `{${type}:${String(value)}}`;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...(value as Set<unknown>)];
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof NumberValue) return value.value;
  return value;
}

/** DynamoDB's maximum nesting depth for documents and document paths. */
export const maxNestingDepth = 32;

/**
 * Checks that a value supplied in ExpressionAttributeValues is in the data model. Returns a problem
 * description, or undefined when the value is acceptable.
 */
export function findValueProblem(value: unknown, depth = 0): string | undefined {
  if (depth > maxNestingDepth) return 'Nesting Levels have exceeded supported limits';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : `The parameter cannot be converted to a numeric value: ${String(value)}`;
    case 'object': {
      if (value === null || value instanceof Uint8Array) return undefined;
      if (isNumberValue(value)) return numberValueProblem(value);
      if (Array.isArray(value)) {
        for (const element of value as unknown[]) {
          const problem = findValueProblem(element, depth + 1);
          if (problem !== undefined) return problem;
        }
        return undefined;
      }
      if (value instanceof Set) return findSetProblem(value as Set<unknown>);
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype !== Object.prototype && prototype !== null) {
        return 'Supplied AttributeValue is not a plain JSON value, Uint8Array or Set';
      }
      for (const key of Object.keys(value)) {
        const problem = findValueProblem((value as Record<string, unknown>)[key], depth + 1);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    default:
      return `Supplied AttributeValue has an unsupported type: ${typeof value}`;
  }
}

function findSetProblem(set: Set<unknown>): string | undefined {
  if (set.size === 0)
    return 'One or more parameter values were invalid: An AttributeValue may not contain an empty set.';
  const type = setType(set);
  if (type === undefined)
    return 'Supplied AttributeValue is a set whose elements are not strings, numbers or binary';
  const seen: Uint8Array[] = [];
  const seenNumbers = new Set<string>();
  for (const element of set) {
    const matches =
      (type === 'SS' && typeof element === 'string') ||
      (type === 'NS' && ((typeof element === 'number' && Number.isFinite(element)) || (isNumberValue(element) && !numberValueProblem(element)))) ||
      (type === 'BS' && element instanceof Uint8Array);
    if (!matches) return 'Supplied AttributeValue is a set whose elements are not all of one type';
    if (element instanceof Uint8Array) {
      if (seen.some((other) => bytesEqual(other, element))) return 'Input collection contains duplicates';
      seen.push(element);
    }
    if (isNumberValue(element)) {
      const form = normalizeNumberValue(element);
      if (typeof form === 'number' ? set.has(form) : seenNumbers.has(element.value)) return 'Input collection contains duplicates';
      seenNumbers.add(typeof form === 'number' ? String(form) : element.value);
    }
  }
  return undefined;
}

/**
 * A NumberValue given through the library must be a number within DynamoDB's limits, in its one form
 * (numbers.ts): a NumberValue whose decimal a double holds exactly must be given as that double.
 */
function numberValueProblem(value: NumberValue): string | undefined {
  let form: DynamoNumber | undefined;
  try {
    form = normalizeNumberValue(value);
  } catch (error) {
    return (error as Error).message;
  }
  if (form === undefined) return `The parameter cannot be converted to a numeric value: ${String(value.value)}`;
  if (typeof form === 'number') return `NumberValue ${value.value} is exactly the number ${form}: give it as a number`;
  if (form.value !== value.value) return `NumberValue ${value.value} is not in its canonical form ${form.value}`;
  return undefined;
}
