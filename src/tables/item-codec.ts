/**
 * How an item is kept in the store: JSON, with the two kinds of value JSON cannot carry (binary and
 * sets) wrapped in single-key tag objects: `{"$B": base64}`, `{"$SS": [...]}`, `{"$NS": [...]}`,
 * `{"$BS": [base64...]}`, and numbers no double holds (NumberValue) as `{"$N": "decimal"}`, also
 * inside `$NS`. A genuine map whose only key starts with `$` is wrapped as `{"$M": {...}}`
 * so decoding is never ambiguous. Items made only of plain JSON (the common case) are stored as
 * `JSON.stringify` gives them and decoded by `JSON.parse` alone.
 */
import { NumberValue, type AttributeMap, type AttributeValue, type Item } from './expressions/index.js';

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Whether `value` holds anything that plain JSON would lose or misread. */
function needsTags(value: AttributeValue): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (value instanceof Uint8Array || value instanceof Set || value instanceof NumberValue) return true;
  if (Array.isArray(value)) {
    for (const element of value as readonly AttributeValue[]) if (needsTags(element)) return true;
    return false;
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] as string).startsWith('$')) return true;
  for (const key of keys) if (needsTags((value as AttributeMap)[key] as AttributeValue)) return true;
  return false;
}

function tagged(value: AttributeValue): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return { $B: base64(value) };
  if (value instanceof NumberValue) return { $N: value.value };
  if (value instanceof Set) {
    const elements = [...(value as ReadonlySet<string | number | NumberValue | Uint8Array>)];
    const first = elements[0];
    if (typeof first === 'string') return { $SS: elements };
    if (typeof first === 'number' || first instanceof NumberValue)
      return { $NS: elements.map((element) => (element instanceof NumberValue ? { $N: element.value } : element)) };
    return { $BS: elements.map((element) => base64(element as Uint8Array)) };
  }
  if (Array.isArray(value)) return (value as readonly AttributeValue[]).map(tagged);
  const keys = Object.keys(value);
  const out: Record<string, unknown> = {};
  for (const key of keys) defineOwn(out, key, tagged((value as AttributeMap)[key] as AttributeValue));
  return keys.length === 1 && (keys[0] as string).startsWith('$') ? { $M: out } : out;
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

export function encodeItem(item: Item): string {
  return JSON.stringify(needsTags(item) ? tagged(item) : item);
}

function untagged(value: unknown): AttributeValue {
  if (typeof value !== 'object' || value === null) return value as AttributeValue;
  if (Array.isArray(value)) return value.map(untagged);
  const map = value as Record<string, unknown>;
  const keys = Object.keys(map);
  if (keys.length === 1) {
    const key = keys[0] as string;
    const inner = map[key];
    switch (key) {
      case '$B':
        return new Uint8Array(Buffer.from(inner as string, 'base64'));
      case '$SS':
        return new Set(inner as string[]);
      case '$N':
        return new NumberValue(inner as string);
      case '$NS':
        return new Set(
          (inner as Array<number | { $N: string }>).map((element) =>
            typeof element === 'number' ? element : new NumberValue(element.$N),
          ),
        );
      case '$BS':
        return new Set((inner as string[]).map((b) => new Uint8Array(Buffer.from(b, 'base64'))));
      case '$M':
        return untaggedMap(inner as Record<string, unknown>);
    }
  }
  return untaggedMap(map);
}

function untaggedMap(map: Record<string, unknown>): AttributeMap {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(map)) defineOwn(out, key, untagged(map[key]));
  return out as AttributeMap;
}

export function decodeItem(text: string): Item {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  // A tag always appears as `{"$`; without one the parsed JSON is already the item.
  return text.includes('{"$') ? (untagged(parsed) as Item) : (parsed as Item);
}
