/**
 * Evaluation of a compiled filter pattern against one record.
 *
 * A pattern compiles (see `filter-pattern-compile.ts`) to a tree of two node kinds: an object node, whose
 * fields must all match the same event object, and a leaf node, whose rule list must match a leaf value.
 * The walk follows the pattern, never the record, so a record's unrelated fields cost nothing, and no
 * record is flattened or copied.
 *
 * Semantics (Lambda uses the EventBridge content-filter engine, aws/event-ruler):
 * - A leaf value is a string, number, boolean or null. An array in the record matches a leaf rule when any
 *   of its elements does (nested arrays are crushed out); an empty array, an object or a missing field has
 *   no leaf value, so only `{"exists": false}` can match it ("exists only works on leaf nodes").
 * - An object pattern applied to an array matches when one element matches the whole sub-pattern. That is
 *   event-ruler's array consistency: two fields never match from two different elements of one array.
 * - An object pattern applied to a missing field or to a scalar sees every sub-field as missing.
 */

export type Scalar = string | number | boolean | null;

/** True when one leaf value satisfies a leaf's rule list (`exists: false` is kept aside as `matchesAbsent`). */
export type ScalarTest = (value: Scalar) => boolean;

export interface LeafNode {
  readonly kind: 'leaf';
  readonly test: ScalarTest;
  /** The rule list holds `{"exists": false}`: a field with no leaf value matches. */
  readonly matchesAbsent: boolean;
}

export interface FieldNode {
  readonly key: string;
  readonly node: PatternNode;
}

export interface ObjectNode {
  readonly kind: 'object';
  readonly fields: readonly FieldNode[];
  /** Each `$or` of this object: at least one branch of every group must match the same object. */
  readonly anyOf: readonly (readonly ObjectNode[])[];
  /** The pattern matches a missing field (every field and at least one branch per `$or` does). */
  readonly matchesAbsent: boolean;
  /** Root level of an SQS pattern only: the `body` rule, matched through the SQS body-format rule. */
  readonly sqsBody: PatternNode | undefined;
}

export type PatternNode = LeafNode | ObjectNode;

/** An SQS message body as the filter sees it: parsed when it is a JSON object or array, raw otherwise. */
export interface SqsBodyView {
  readonly json: boolean;
  readonly value: unknown;
}

const MATCH = 1;
const PRESENT_NO_MATCH = 0;
const NO_LEAF = -1;

/** Walks a record value for leaf values: MATCH, PRESENT_NO_MATCH, or NO_LEAF when it holds none. */
function scanLeaves(test: ScalarTest, value: unknown): number {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return test(value) ? MATCH : PRESENT_NO_MATCH;
    case 'object': {
      if (value === null) return test(null) ? MATCH : PRESENT_NO_MATCH;
      if (!Array.isArray(value)) return NO_LEAF;
      let found = NO_LEAF;
      for (const element of value as unknown[]) {
        const result = scanLeaves(test, element);
        if (result === MATCH) return MATCH;
        if (result === PRESENT_NO_MATCH) found = PRESENT_NO_MATCH;
      }
      return found;
    }
    default:
      // undefined (missing) and values JSON cannot carry (functions, symbols, bigints) hold no leaf.
      return NO_LEAF;
  }
}

function matchLeaf(leaf: LeafNode, value: unknown): boolean {
  const result = scanLeaves(leaf.test, value);
  return result === MATCH || (result === NO_LEAF && leaf.matchesAbsent);
}

function fieldValue(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

/** The fields and `$or` groups of `node` against one (non-array) object. */
function matchObjectBody(node: ObjectNode, object: object, sqsBody: SqsBodyView | undefined): boolean {
  for (const field of node.fields) {
    if (!matchNode(field.node, fieldValue(object, field.key))) return false;
  }
  if (node.sqsBody !== undefined && !matchSqsBody(node.sqsBody, sqsBody)) return false;
  for (const group of node.anyOf) {
    let matched = false;
    for (const branch of group) {
      if (matchObjectBody(branch, object, sqsBody)) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

function matchObject(node: ObjectNode, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return node.matchesAbsent;
  if (!Array.isArray(value)) return matchObjectBody(node, value, undefined);
  if (value.length === 0) return node.matchesAbsent;
  for (const element of value as unknown[]) {
    if (matchObject(node, element)) return true;
  }
  return false;
}

/** True when `value` (undefined for a missing field) satisfies the compiled pattern node. */
export function matchNode(node: PatternNode, value: unknown): boolean {
  return node.kind === 'leaf' ? matchLeaf(node, value) : matchObject(node, value);
}

/**
 * The SQS body-format rule (Lambda docs, "Properly filtering Amazon SQS messages"): an object pattern on
 * `body` only applies to a JSON body and a rule list only to a plain-string body; a mismatch drops the record.
 */
function matchSqsBody(node: PatternNode, body: SqsBodyView | undefined): boolean {
  if (body === undefined || body.value === undefined) return matchNode(node, undefined);
  if (node.kind === 'object') return body.json && matchObject(node, body.value);
  return !body.json && matchLeaf(node, body.value);
}

/** Matches a pattern's root against a whole record; `sqsBody` is the record's body view for SQS patterns. */
export function matchRoot(root: ObjectNode, record: object, sqsBody: SqsBodyView | undefined): boolean {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return false;
  return matchObjectBody(root, record, sqsBody);
}
