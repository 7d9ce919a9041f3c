/**
 * DynamoDB numbers: decimals of up to 38 significant digits, with magnitudes from 1E-130 to
 * 9.99...E+125, kept exactly.
 *
 * A number is held as a JavaScript `number` when the double's shortest decimal form (`String(x)`) is
 * the number itself, which is every number an application usually writes (integers up to 2^53, 1.5,
 * 0.1); the `number` x stands for the decimal String(x). Any other number is held as a `NumberValue`
 * (the class @aws-sdk/lib-dynamodb uses for the same purpose) whose `value` is its canonical decimal
 * text. A number has exactly one form (`toNumber` chooses it), so two numbers are equal exactly when
 * their forms are. Comparisons and ADD arithmetic are decimal (decimal.js), never double arithmetic:
 * 0.1 + 0.2 is 0.3, as in DynamoDB.
 */
import { NumberValueImpl as NumberValue } from '@aws-sdk/util-dynamodb';
import { Decimal as DecimalBase } from 'decimal.js';
import { SluiceError } from '../../model/errors.js';

export { NumberValue };

/** Exact for every sum of two DynamoDB numbers (their digits span at most 38 + 256 places). */
const Decimal = DecimalBase.clone({ precision: 400, toExpNeg: -400, toExpPos: 400 });
type Decimal = DecimalBase;

export type DynamoNumber = number | NumberValue;

export const isNumberValue = (value: unknown): value is NumberValue => value instanceof NumberValue;

export const isDynamoNumber = (value: unknown): value is DynamoNumber =>
  typeof value === 'number' || value instanceof NumberValue;

/** The decimal a number stands for, as text. */
export function numberText(value: DynamoNumber): string {
  return typeof value === 'number' ? String(value) : value.value;
}

const decimalOf = (value: DynamoNumber): Decimal => new Decimal(numberText(value));

const numberError = (message: string, field?: string) =>
  new SluiceError('ValidationException', message, field === undefined ? {} : { field });

/**
 * Checks a decimal against DynamoDB's limits, with its messages: at most 38 significant digits, a
 * magnitude within 1E-130 .. 9.99...E+125 (zero aside).
 */
function checkLimits(decimal: Decimal, field?: string): void {
  if (decimal.isZero()) return;
  if (decimal.precision(false) > 38)
    throw numberError('Attempting to store more than 38 significant digits in a Number', field);
  // e is the exponent of the first significant digit: d.ddd × 10^e.
  if (decimal.e > 125)
    throw numberError('Number overflow. Attempting to store a number with magnitude larger than supported range', field);
  if (decimal.e < -130)
    throw numberError('Number underflow. Attempting to store a number with magnitude smaller than supported range', field);
}

/** The one form of a decimal: a double when its shortest form is the decimal, else a NumberValue. */
function fromDecimal(decimal: Decimal): DynamoNumber {
  if (decimal.isZero()) return 0;
  const double = decimal.toNumber();
  if (Number.isFinite(double) && new Decimal(String(double)).eq(decimal)) return double;
  return new NumberValue(decimal.toString());
}

/**
 * A number from decimal text (the wire's `N`), checked against DynamoDB's limits; undefined when the
 * text is not a number at all.
 */
export function parseNumber(text: string, field?: string): DynamoNumber | undefined {
  let decimal: Decimal;
  try {
    decimal = new Decimal(text);
  } catch {
    return undefined;
  }
  if (!decimal.isFinite()) return undefined;
  checkLimits(decimal, field);
  return fromDecimal(decimal);
}

/**
 * A value given through the library as a NumberValue, in its one form (a double when that is exact),
 * checked as a number from the wire is; undefined when its text is not a number.
 */
export function normalizeNumberValue(value: NumberValue, field?: string): DynamoNumber | undefined {
  return typeof value.value === 'string' ? parseNumber(value.value, field) : undefined;
}

export function compareNumbers(a: DynamoNumber, b: DynamoNumber): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  return decimalOf(a).cmp(decimalOf(b));
}

export function numbersEqual(a: DynamoNumber, b: DynamoNumber): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return a.value === b.value;
}

/** a + b (or a - b), exactly, refused with DynamoDB's message when the result leaves its limits. */
export function addNumbers(a: DynamoNumber, b: DynamoNumber, subtract = false): DynamoNumber {
  if (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
    const sum = subtract ? a - b : a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  const sum = subtract ? decimalOf(a).minus(decimalOf(b)) : decimalOf(a).plus(decimalOf(b));
  checkLimits(sum);
  return fromDecimal(sum);
}

/** Digits DynamoDB counts for a number's size: its significant digits. */
export function significantDigits(value: DynamoNumber): number {
  const decimal = decimalOf(value);
  return decimal.isZero() ? 1 : decimal.precision(false);
}

/** A number as an approximate double (TTL seconds). */
export function approximate(value: DynamoNumber): number {
  return typeof value === 'number' ? value : Number(value.value);
}
