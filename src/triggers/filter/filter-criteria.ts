/**
 * Lambda event filtering for event source mappings: `FilterCriteria` validation and the compiled record
 * matcher a trigger runs on every record it polls.
 *
 * - `parseFilterCriteria` checks `{ Filters: [{ Pattern }] }` once, at mapping creation: at most 5 filters
 *   by default (Lambda's default quota, raisable to 10), each Pattern a JSON object of at most 4,096
 *   characters in the EventBridge filter grammar. Any fault throws `InvalidParameterValue` naming the field.
 * - `compileFilterCriteria` turns the criteria into one function; a record is delivered when ANY filter
 *   matches, and criteria without filters deliver everything. Patterns are compiled to closures up front, so
 *   the per-record cost is a walk over the pattern's own keys (no regex, no flattening, no copies).
 * - SQS (`source: 'sqs'`): the root `body` key follows Lambda's body-format rule. An object pattern on
 *   `body` matches the parsed body when the body is a JSON object or array; a rule list on `body` matches
 *   the raw string when the body is not JSON; a mismatch drops the record. The body is parsed at most once
 *   per record, and only when some filter looks at `body`.
 * - DynamoDB (`source: 'dynamodb'`): records are matched as plain objects, AttributeValue JSON included
 *   (`{"dynamodb": {"NewImage": {"status": {"S": ["done"]}}}}`); a rule list directly on `dynamodb` is
 *   rejected at creation, as Lambda does.
 */
import { invalidValue } from '../../model/errors.js';
import { compilePattern, type FilterSource } from './filter-pattern-compile.js';
import { matchRoot, type ObjectNode, type SqsBodyView } from './filter-pattern-match.js';

export type { FilterSource } from './filter-pattern-compile.js';

export interface FilterCriteriaFilter {
  /** A filter pattern: the JSON text of an EventBridge-style pattern object. */
  readonly Pattern: string;
}

export interface FilterCriteria {
  readonly Filters: readonly FilterCriteriaFilter[];
}

export const filterCriteriaLimits = {
  /** Lambda's default quota of filters per event source mapping. */
  defaultMaxFilters: 5,
  /** The most filters a quota increase allows per event source mapping. */
  maxFiltersWithQuotaIncrease: 10,
  /** `Filter.Pattern` length constraint of the Lambda API, in characters. */
  maxPatternLength: 4096,
} as const;

export interface ParseFilterCriteriaOptions {
  /** Which event source the criteria filter; selects the SQS or DynamoDB data-key rules. Default `generic`. */
  readonly source?: FilterSource;
  /** The filter quota to enforce; default 5, as on AWS without a quota increase. */
  readonly maxFilters?: number;
}

export interface CompileFilterCriteriaOptions {
  /** Which event source the records come from. Default `generic` (plain object matching). */
  readonly source?: FilterSource;
}

/** True when a record should be delivered to the function; false when filtering discards it. */
export type RecordMatcher = (record: object) => boolean;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function checkOnlyKeys(object: Record<string, unknown>, allowed: string, field: string): void {
  for (const key of Object.keys(object)) {
    if (key !== allowed)
      throw invalidValue(`${field}.${key}`, `is not a recognised field; ${field} takes only ${allowed}`);
  }
}

/**
 * Validates FilterCriteria as CreateEventSourceMapping receives it and returns a plain, frozen copy.
 * `undefined`, `null` and `{}` mean "no filtering" (the AWS CLI clears filters with `--filter-criteria "{}"`).
 */
export function parseFilterCriteria(
  input: unknown,
  options: ParseFilterCriteriaOptions = {},
): FilterCriteria {
  const source = options.source ?? 'generic';
  const maxFilters = options.maxFilters ?? filterCriteriaLimits.defaultMaxFilters;
  if (!Number.isInteger(maxFilters) || maxFilters < 1) {
    throw invalidValue('maxFilters', `must be a positive integer, got ${String(maxFilters)}`);
  }
  if (input === undefined || input === null) return Object.freeze({ Filters: Object.freeze([]) });
  if (!isPlainObject(input))
    throw invalidValue('FilterCriteria', 'must be an object like {"Filters": [{"Pattern": "..."}]}');
  checkOnlyKeys(input, 'Filters', 'FilterCriteria');
  const filters = input['Filters'];
  if (filters === undefined || filters === null) return Object.freeze({ Filters: Object.freeze([]) });
  if (!Array.isArray(filters))
    throw invalidValue('FilterCriteria.Filters', 'must be an array of {"Pattern": string}');
  if (filters.length > maxFilters) {
    throw invalidValue(
      'FilterCriteria.Filters',
      `has ${filters.length} filters; the limit is ${maxFilters} per event source mapping ` +
        `(AWS default ${filterCriteriaLimits.defaultMaxFilters}, up to ${filterCriteriaLimits.maxFiltersWithQuotaIncrease} with a quota increase)`,
    );
  }
  const parsed = (filters as unknown[]).map((filter, index): FilterCriteriaFilter => {
    const field = `FilterCriteria.Filters[${index}]`;
    if (!isPlainObject(filter)) throw invalidValue(field, 'must be an object like {"Pattern": "..."}');
    checkOnlyKeys(filter, 'Pattern', field);
    const pattern = filter['Pattern'];
    const patternField = `${field}.Pattern`;
    if (typeof pattern !== 'string')
      throw invalidValue(patternField, 'is required and must be a string of JSON');
    const length = characterCount(pattern);
    if (length > filterCriteriaLimits.maxPatternLength) {
      throw invalidValue(
        patternField,
        `is ${length} characters; the limit is ${filterCriteriaLimits.maxPatternLength}`,
      );
    }
    compilePattern({ pattern, field: patternField, source });
    return Object.freeze({ Pattern: pattern });
  });
  return Object.freeze({ Filters: Object.freeze(parsed) });
}

function readsSqsBody(node: ObjectNode): boolean {
  return node.sqsBody !== undefined || node.anyOf.some((group) => group.some(readsSqsBody));
}

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * How the filter sees an SQS body: a JSON object or array is parsed; anything else (plain text, and JSON
 * scalars such as `42` or `"text"`) stays the raw string. A non-string body is taken as already parsed.
 */
export function sqsBodyView(body: unknown): SqsBodyView {
  if (typeof body !== 'string') return { json: typeof body === 'object' && body !== null, value: body };
  let start = 0;
  while (start < body.length && isJsonWhitespace(body.charCodeAt(start))) start++;
  const first = body.charCodeAt(start);
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
    try {
      return { json: true, value: JSON.parse(body) as unknown };
    } catch {
      // Not JSON after all: plain text.
    }
  }
  return { json: false, value: body };
}

/**
 * Compiles criteria (validated or not: patterns are checked again) into a matcher. A record matches when
 * any filter matches; no filters match everything.
 */
export function compileFilterCriteria(
  criteria: FilterCriteria,
  options: CompileFilterCriteriaOptions = {},
): RecordMatcher {
  const source = options.source ?? 'generic';
  const roots = criteria.Filters.map((filter, index) =>
    compilePattern({ pattern: filter.Pattern, field: `FilterCriteria.Filters[${index}].Pattern`, source }),
  );
  if (roots.length === 0) return () => true;
  const needsBody = source === 'sqs' && roots.some(readsSqsBody);
  return (record) => {
    const body =
      needsBody && typeof record === 'object' && record !== null
        ? sqsBodyView((record as { body?: unknown }).body)
        : undefined;
    for (const root of roots) {
      if (matchRoot(root, record, body)) return true;
    }
    return false;
  };
}
