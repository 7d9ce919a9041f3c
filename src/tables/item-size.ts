/**
 * DynamoDB's item size, which bounds items (400 KB), pages (1 MB) and gives stream records their
 * SizeBytes: attribute names and strings count their UTF-8 bytes, binary its bytes, a number about one
 * byte per two significant digits plus one, booleans and null one byte, lists and maps three bytes plus
 * one per element. The figures follow DynamoDB's documented rules; they are estimates, as DynamoDB's own
 * are for numbers.
 */
import { NumberValue, type AttributeMap, type AttributeValue, type Item } from './expressions/index.js';
import { type DynamoNumber } from './expressions/numbers.js';

function numberSize(value: DynamoNumber): number {
  const digits = (typeof value === 'number' ? String(Math.abs(value)) : value.value)
    .replace(/^-/, '')
    .replace(/e.*$/i, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

export function valueSize(value: AttributeValue): number {
  switch (typeof value) {
    case 'string':
      return Buffer.byteLength(value);
    case 'number':
      return numberSize(value);
    case 'boolean':
      return 1;
    default:
      break;
  }
  if (value === null) return 1;
  if (value instanceof Uint8Array) return value.length;
  if (value instanceof NumberValue) return numberSize(value);
  if (value instanceof Set) {
    let total = 0;
    for (const element of value as ReadonlySet<string | DynamoNumber | Uint8Array>) total += valueSize(element);
    return total;
  }
  if (Array.isArray(value)) {
    let total = 3;
    for (const element of value as readonly AttributeValue[]) total += 1 + valueSize(element);
    return total;
  }
  return 3 + attributesSize(value as AttributeMap, 1);
}

function attributesSize(map: AttributeMap, perEntry: number): number {
  let total = 0;
  for (const name of Object.keys(map))
    total += perEntry + Buffer.byteLength(name) + valueSize(map[name] as AttributeValue);
  return total;
}

export function itemSize(item: Item): number {
  return attributesSize(item, 0);
}
