/**
 * Message attributes: up to 10 per message, typed String, Number or Binary with an optional custom
 * suffix (`Number.int`, `Binary.png`). Stored as JSON with binary values in base64, which is also how
 * Lambda's SQS event carries them.
 */
import { SluiceError } from '../model/errors.js';

export interface MessageAttributeInput {
  dataType: string;
  stringValue?: string;
  /** Raw bytes, or a base64 string. */
  binaryValue?: Uint8Array | string;
}

export interface StoredMessageAttribute {
  dataType: string;
  stringValue?: string;
  /** base64 */
  binaryValue?: string;
}

export type StoredMessageAttributes = Record<string, StoredMessageAttribute>;

const NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[^\s]{1,250})?$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const MAX_MESSAGE_ATTRIBUTES = 10;

function fail(field: string, rule: string): never {
  throw new SluiceError('InvalidParameterValue', `${field}: ${rule}`, { field });
}

/** Validates and normalises attributes; returns the stored form and its size in bytes. */
export function normalizeMessageAttributes(
  input: Record<string, MessageAttributeInput> | undefined,
  field: string,
): { attributes: StoredMessageAttributes | null; size: number } {
  if (input === undefined || input === null) return { attributes: null, size: 0 };
  if (typeof input !== 'object' || Array.isArray(input)) fail(field, 'must be an object of name to attribute value');
  const names = Object.keys(input);
  if (names.length === 0) return { attributes: null, size: 0 };
  if (names.length > MAX_MESSAGE_ATTRIBUTES) fail(field, `has ${names.length} attributes; at most ${MAX_MESSAGE_ATTRIBUTES} are allowed`);
  const attributes: StoredMessageAttributes = {};
  let size = 0;
  for (const name of names) {
    const at = `${field}.${name}`;
    if (!NAME.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      fail(at, "name must be 1-256 characters of letters, digits, '_', '-', '.', not starting or ending with '.' nor containing '..'");
    }
    if (/^(aws\.|amazon\.)/i.test(name)) fail(at, "names starting with 'AWS.' or 'Amazon.' are reserved");
    const value = input[name];
    if (!value || typeof value !== 'object') fail(at, 'must be an object with dataType and a value');
    const dataType = value.dataType;
    if (typeof dataType !== 'string' || dataType.length > 256 || !DATA_TYPE.test(dataType)) {
      fail(`${at}.dataType`, 'must be String, Number or Binary, optionally followed by .customType (at most 256 characters)');
    }
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(dataType, 'utf8');
    if (dataType.startsWith('Binary')) {
      const raw = value.binaryValue;
      let base64: string;
      if (raw instanceof Uint8Array) base64 = Buffer.from(raw).toString('base64');
      else if (typeof raw === 'string' && BASE64.test(raw)) base64 = raw;
      else fail(`${at}.binaryValue`, 'a Binary attribute needs binaryValue (bytes or base64)');
      if (value.stringValue !== undefined) fail(`${at}.stringValue`, 'a Binary attribute carries binaryValue only');
      const bytes = Buffer.from(base64, 'base64').length;
      if (bytes === 0) fail(`${at}.binaryValue`, 'must not be empty');
      size += bytes;
      attributes[name] = { dataType, binaryValue: base64 };
    } else {
      const text = value.stringValue;
      if (typeof text !== 'string' || text.length === 0) fail(`${at}.stringValue`, `a ${dataType} attribute needs a non-empty stringValue`);
      if (value.binaryValue !== undefined) fail(`${at}.binaryValue`, `a ${dataType} attribute carries stringValue only`);
      if (dataType.startsWith('Number') && (!NUMBER.test(text.trim()) || !isNumberInRange(text.trim()))) {
        fail(`${at}.stringValue`, `'${text.slice(0, 50)}' is not a number from -10^128 to 10^126 with at most 38 significant digits`);
      }
      if (!isXmlSafe(text)) fail(`${at}.stringValue`, 'contains characters outside the allowed Unicode set');
      size += Buffer.byteLength(text, 'utf8');
      attributes[name] = { dataType, stringValue: text };
    }
  }
  return { attributes, size };
}

function isNumberInRange(text: string): boolean {
  const digits = text.replace(/^[+-]/, '').split(/[eE]/)[0]!.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  if (digits.length > 38) return false;
  const value = Number(text);
  return Number.isFinite(value) ? Math.abs(value) <= 1e126 : false;
}

/** SQS accepts #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF; anything else is refused. */
// eslint-disable-next-line no-control-regex -- the allowed set is defined by its control characters
const OUTSIDE_XML_SAFE = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function isXmlSafe(text: string): boolean {
  return !OUTSIDE_XML_SAFE.test(text);
}
