/**
 * DynamoDB's AttributeValue JSON (`{"S": "x"}`, `{"N": "1.5"}`, `{"M": {...}}`, ...) to and from the
 * table library's values (string, number, Uint8Array, boolean, null, arrays, maps, Sets), validated as
 * DynamoDB validates it, with its messages: exactly one type per value, non-empty and distinct sets,
 * numbers of at most 38 significant digits within 1E-130 .. 9.99...E+125, binary as base64.
 *
 * Numbers are kept exactly (tables/expressions/numbers.ts): a double when its shortest form is the
 * number, a NumberValue holding the decimal text otherwise; both go back to the wire as decimal text.
 */
import { NumberValue, type AttributeMap, type AttributeValue, type Item } from '../../../tables/expressions/index.js';
import { numberText, parseNumber, type DynamoNumber } from '../../../tables/expressions/numbers.js';
import { SluiceError } from '../../../model/errors.js';

/** AttributeValue JSON as it travels. */
export type WireValue = Record<string, unknown>;
export type WireItem = Record<string, WireValue>;

const MAX_DEPTH = 32;

export function invalidParameter(message: string, field?: string): SluiceError {
  return new SluiceError(
    'ValidationException',
    `One or more parameter values were invalid: ${message}`,
    field ? { field } : {},
  );
}

function validation(message: string, field?: string): SluiceError {
  return new SluiceError('ValidationException', message, field ? { field } : {});
}

const typeNames = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'] as const;

interface Decimal {
  negative: boolean;
  /** Significant digits, no leading or trailing zeros ('' for zero). */
  digits: string;
  /** The value is 0.digits × 10^exponent. */
  exponent: number;
}

const numberPattern = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function parseDecimal(text: string): Decimal | undefined {
  const match = numberPattern.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '', fraction = '', exp = '0'] = match;
  if (whole === '' && fraction === '') return undefined;
  if (exp.length > 12) return undefined;
  const all = whole + fraction;
  const leading = all.length - all.replace(/^0+/, '').length;
  const digits = all.replace(/^0+/, '').replace(/0+$/, '');
  if (digits === '') return { negative: false, digits: '', exponent: 0 };
  return { negative: sign === '-', digits, exponent: whole.length - leading + Number(exp) };
}

/** Decodes and checks a number as DynamoDB does: a double when that is exact, else a NumberValue. */
export function decodeNumber(text: unknown, field: string): DynamoNumber {
  if (typeof text !== 'string') throw serialization(field, 'N', 'a string');
  const decimal = parseDecimal(text);
  if (!decimal)
    throw validation(`The parameter cannot be converted to a numeric value: ${clip(text)}`, field);
  if (decimal.digits.length > 38)
    throw validation('Attempting to store more than 38 significant digits in a Number', field);
  if (decimal.digits !== '') {
    // 0.d × 10^e: the magnitude is within [1E-130, 9.99..E+125].
    if (decimal.exponent > 126)
      throw validation(
        'Number overflow. Attempting to store a number with magnitude larger than supported range',
        field,
      );
    if (decimal.exponent < -129)
      throw validation(
        'Number underflow. Attempting to store a number with magnitude smaller than supported range',
        field,
      );
  }
  if (decimal.digits === '') return 0;
  // The decimal as checked, in a form decimal.js reads whatever the text's (".5", "5.", "+5").
  return parseNumber(`${decimal.negative ? '-' : ''}0.${decimal.digits}e${decimal.exponent}`, field)!;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

function serialization(field: string, type: string, expected: string): SluiceError {
  return new SluiceError('SerializationException', `${field}: the ${type} member must be ${expected}`, {
    field,
  });
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBinary(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || value.length % 4 === 1 || !base64Pattern.test(value))
    throw serialization(field, 'B', 'base64 text');
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function decodeSet(type: 'SS' | 'NS' | 'BS', members: unknown, field: string): AttributeValue {
  if (!Array.isArray(members)) throw serialization(field, type, 'a list');
  if (members.length === 0) {
    const name =
      type === 'SS' ? 'An string set ' : type === 'NS' ? 'An number set ' : 'Binary sets should not be empty';
    throw invalidParameter(type === 'BS' ? name : `${name} may not be empty`, field);
  }
  const seen = new Set<string>();
  const out: Array<string | DynamoNumber | Uint8Array> = [];
  members.forEach((member, i) => {
    const at = `${field}[${i}]`;
    let identity: string;
    if (type === 'SS') {
      if (typeof member !== 'string') throw serialization(at, type, 'a list of strings');
      identity = member;
      out.push(member);
    } else if (type === 'NS') {
      const n = decodeNumber(member, at);
      identity = numberText(n);
      out.push(n);
    } else {
      const bytes = decodeBinary(member, at);
      identity = Buffer.from(bytes).toString('base64');
      out.push(bytes);
    }
    if (seen.has(identity))
      throw invalidParameter(
        `Input collection ${clip(JSON.stringify(members))} of type ${type} contains duplicates.`,
        field,
      );
    seen.add(identity);
  });
  return new Set(out) as AttributeValue;
}

/** One AttributeValue JSON to a library value. */
export function decodeValue(wire: unknown, field: string, depth = 0): AttributeValue {
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire))
    throw new SluiceError(
      'SerializationException',
      `${field}: an AttributeValue must be an object such as {"S": "text"}`,
      { field },
    );
  if (depth > MAX_DEPTH) throw validation(`${field}: Nesting Levels have exceeded supported limits`, field);
  const members = Object.keys(wire);
  if (members.length === 0)
    throw validation(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
      field,
    );
  if (members.length > 1)
    throw validation(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
      field,
    );
  const type = members[0] as string;
  const value = (wire as Record<string, unknown>)[type];
  switch (type) {
    case 'S':
      if (typeof value !== 'string') throw serialization(field, 'S', 'a string');
      return value;
    case 'N':
      return decodeNumber(value, field);
    case 'B':
      return decodeBinary(value, field);
    case 'BOOL':
      if (typeof value !== 'boolean') throw serialization(field, 'BOOL', 'true or false');
      return value;
    case 'NULL':
      if (value !== true)
        throw invalidParameter('Null attribute value types must have the value of true', field);
      return null;
    case 'L':
      if (!Array.isArray(value)) throw serialization(field, 'L', 'a list');
      return value.map((element, i) => decodeValue(element, `${field}[${i}]`, depth + 1));
    case 'M':
      return decodeMap(value, field, depth + 1);
    case 'SS':
    case 'NS':
    case 'BS':
      return decodeSet(type, value, field);
    default:
      throw new SluiceError(
        'SerializationException',
        `${field}: '${clip(type)}' is not an AttributeValue type; use one of ${typeNames.join(', ')}`,
        { field },
      );
  }
}

function decodeMap(wire: unknown, field: string, depth: number): AttributeMap {
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire))
    throw new SluiceError(
      'SerializationException',
      `${field}: must be a map of attribute names to AttributeValues`,
      { field },
    );
  const out: Record<string, AttributeValue> = {};
  for (const name of Object.keys(wire)) {
    const value = decodeValue((wire as Record<string, unknown>)[name], `${field}.${clip(name)}`, depth);
    if (name === '__proto__')
      Object.defineProperty(out, name, { value, writable: true, enumerable: true, configurable: true });
    else out[name] = value;
  }
  return out;
}

/** A map of attribute names to AttributeValues (an Item, a Key, ExpressionAttributeValues). */
export function decodeItem(wire: unknown, field: string): Item {
  return decodeMap(wire, field, 0);
}

export function decodeOptionalItem(wire: unknown, field: string): Item | undefined {
  return wire === undefined ? undefined : decodeItem(wire, field);
}

// ---------------------------------------------------------------- to the wire

function encodeNumber(n: DynamoNumber): string {
  return numberText(n);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function encodeValue(value: AttributeValue): WireValue {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      return { N: encodeNumber(value) };
    case 'boolean':
      return { BOOL: value };
    default:
      break;
  }
  if (value === null) return { NULL: true };
  if (value instanceof Uint8Array) return { B: base64(value) };
  if (value instanceof NumberValue) return { N: value.value };
  if (Array.isArray(value)) return { L: (value as readonly AttributeValue[]).map(encodeValue) };
  if (value instanceof Set) {
    const members = [...(value as ReadonlySet<string | DynamoNumber | Uint8Array>)];
    const first = members[0];
    if (typeof first === 'number' || first instanceof NumberValue)
      return { NS: members.map((n) => encodeNumber(n as DynamoNumber)) };
    if (first instanceof Uint8Array) return { BS: members.map((b) => base64(b as Uint8Array)) };
    return { SS: members as string[] };
  }
  return { M: encodeItem(value as AttributeMap) };
}

export function encodeItem(item: AttributeMap): WireItem {
  const out: WireItem = {};
  for (const name of Object.keys(item)) {
    const encoded = encodeValue(item[name] as AttributeValue);
    if (name === '__proto__')
      Object.defineProperty(out, name, {
        value: encoded,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    else out[name] = encoded;
  }
  return out;
}
