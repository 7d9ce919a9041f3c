import { SluiceError } from '../model/errors.js';

/** The value when it is an integer in [min, max], else InvalidParameterValue naming the field, the range and the unit. */
export function integerInRange(
  field: string,
  value: unknown,
  min: number,
  max: number,
  unit: string,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SluiceError(
      'InvalidParameterValue',
      `${field}: ${JSON.stringify(value)} is invalid; must be an integer from ${min} to ${max} ${unit}`,
      {
        field,
      },
    );
  }
  return value;
}
