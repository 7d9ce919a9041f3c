/**
 * Reading one DynamoDB (or DynamoDB Streams) request body member by member, with AWS's error kinds: a
 * member of the wrong JSON type is a SerializationException (the body does not fit the model), a value
 * outside its constraints (length, range, allowed values) or a missing required member is a
 * ValidationException naming the member.
 */
import { SluiceError } from '../../../model/errors.js';
import { decodeItem } from './attribute-values.js';
import type { Item } from '../../../tables/expressions/index.js';

type Json = Record<string, unknown>;

export function wireValidation(message: string, field?: string): SluiceError {
  return new SluiceError('ValidationException', message, field ? { field } : {});
}

function wrongType(field: string, expected: string): SluiceError {
  return new SluiceError('SerializationException', `${field}: expected ${expected}`, { field });
}

/** AWS's constraint message: `1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: ...`. */
function constraint(field: string, value: unknown, rule: string): SluiceError {
  const shown = typeof value === 'string' ? value.slice(0, 100) : JSON.stringify(value);
  const member = field.charAt(0).toLowerCase() + field.slice(1);
  return wireValidation(
    `1 validation error detected: Value '${shown}' at '${member}' failed to satisfy constraint: ${rule}`,
    field,
  );
}

export class WireInput {
  constructor(
    readonly body: Json,
    private readonly prefix = '',
  ) {}

  /** The member's path in the request (`TransactItems[2].Put.Item`); the object's own with ''. */
  path(name: string): string {
    if (name === '') return this.prefix || 'body';
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  raw(name: string): unknown {
    const value = this.body[name];
    return value === null ? undefined : value;
  }

  required(name: string): never {
    throw wireValidation(
      `1 validation error detected: Value null at '${this.path(name)}' failed to satisfy constraint: Member must not be null`,
      this.path(name),
    );
  }

  string(name: string, options: { required: true; min?: number; max?: number; pattern?: RegExp }): string;
  string(
    name: string,
    options?: { required?: false; min?: number; max?: number; pattern?: RegExp },
  ): string | undefined;
  string(
    name: string,
    options: { required?: boolean; min?: number; max?: number; pattern?: RegExp } = {},
  ): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return options.required ? this.required(name) : undefined;
    if (typeof value !== 'string') throw wrongType(this.path(name), 'a string');
    if (options.min !== undefined && value.length < options.min)
      throw constraint(
        this.path(name),
        value,
        `Member must have length greater than or equal to ${options.min}`,
      );
    if (options.max !== undefined && value.length > options.max)
      throw constraint(
        this.path(name),
        value,
        `Member must have length less than or equal to ${options.max}`,
      );
    if (options.pattern && !options.pattern.test(value))
      throw constraint(
        this.path(name),
        value,
        `Member must satisfy regular expression pattern: ${options.pattern.source}`,
      );
    return value;
  }

  tableName(name = 'TableName'): string {
    return this.string(name, { required: true, min: 3, max: 255, pattern: /^[a-zA-Z0-9_.-]+$/ });
  }

  integer(name: string, options: { min?: number; max?: number } = {}): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(this.path(name), 'an integer');
    if (options.min !== undefined && value < options.min)
      throw constraint(
        this.path(name),
        value,
        `Member must have value greater than or equal to ${options.min}`,
      );
    if (options.max !== undefined && value > options.max)
      throw constraint(this.path(name), value, `Member must have value less than or equal to ${options.max}`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw wrongType(this.path(name), 'true or false');
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value))
      throw constraint(this.path(name), value, `Member must satisfy enum value set: [${values.join(', ')}]`);
    return value as T;
  }

  object(name: string, options: { required?: boolean } = {}): WireInput | undefined {
    const value = this.raw(name);
    if (value === undefined) return options.required ? this.required(name) : undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(this.path(name), 'an object');
    return new WireInput(value as Json, this.path(name));
  }

  list(
    name: string,
    options: { required?: boolean; min?: number; max?: number } = {},
  ): unknown[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return options.required ? this.required(name) : undefined;
    if (!Array.isArray(value)) throw wrongType(this.path(name), 'a list');
    if (options.min !== undefined && value.length < options.min)
      throw constraint(
        this.path(name),
        `[${value.length} entries]`,
        `Member must have length greater than or equal to ${options.min}`,
      );
    if (options.max !== undefined && value.length > options.max)
      throw constraint(
        this.path(name),
        `[${value.length} entries]`,
        `Member must have length less than or equal to ${options.max}`,
      );
    return value;
  }

  /**
   * The members of a list that must each be a string (`TagKeys`): another JSON type is a
   * SerializationException, a length outside `each` a ValidationException naming the member's index.
   */
  strings(
    name: string,
    options: { required?: boolean; min?: number; max?: number; each?: { min?: number; max?: number } } = {},
  ): string[] | undefined {
    const { each, ...listOptions } = options;
    return this.list(name, listOptions)?.map((entry, i) => {
      const at = `${this.path(name)}[${i}]`;
      if (typeof entry !== 'string') throw wrongType(at, 'a string');
      if (each?.min !== undefined && entry.length < each.min)
        throw constraint(at, entry, `Member must have length greater than or equal to ${each.min}`);
      if (each?.max !== undefined && entry.length > each.max)
        throw constraint(at, entry, `Member must have length less than or equal to ${each.max}`);
      return entry;
    });
  }

  /** The members of a list that must each be an object. */
  objects(
    name: string,
    options: { required?: boolean; min?: number; max?: number } = {},
  ): WireInput[] | undefined {
    return this.list(name, options)?.map((entry, i) => {
      const at = `${this.path(name)}[${i}]`;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        throw wrongType(at, 'an object');
      return new WireInput(entry as Json, at);
    });
  }

  stringMap(name: string): Record<string, string> | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || Array.isArray(value))
      throw wrongType(this.path(name), 'a map of strings');
    for (const [key, member] of Object.entries(value as Json)) {
      if (typeof member !== 'string') throw wrongType(`${this.path(name)}.${key}`, 'a string');
    }
    return value as Record<string, string>;
  }

  item(name: string, options: { required: true }): Item;
  item(name: string, options?: { required?: false }): Item | undefined;
  item(name: string, options: { required?: boolean } = {}): Item | undefined {
    const value = this.raw(name);
    if (value === undefined) return options.required ? this.required(name) : undefined;
    return decodeItem(value, this.path(name));
  }

  /** Refuses the pre-expression parameters (Expected, AttributesToGet, ...), which Sluice does not serve. */
  refuseLegacy(names: readonly string[]): void {
    for (const name of names) {
      if (this.has(name)) {
        throw wireValidation(
          `${this.path(name)}: Sluice does not serve DynamoDB's legacy parameter ${name}; use the expression parameters (ConditionExpression, ProjectionExpression, KeyConditionExpression, FilterExpression, UpdateExpression)`,
          this.path(name),
        );
      }
    }
  }
}
