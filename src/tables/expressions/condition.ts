/**
 * ConditionExpression and FilterExpression: the syntax tree, and its compilation into a predicate.
 *
 * Compilation happens once; the predicate is a tree of closures that reads the item directly and
 * allocates nothing for scalar comparisons. DynamoDB's semantics, as evaluated:
 * - a missing attribute makes every comparison false except `<>`, which is true;
 * - `=` and `<>` compare any types deeply (maps and sets ignore order; different types are unequal);
 * - `<`, `<=`, `>`, `>=` and BETWEEN are true only for two S, two N or two B values;
 * - `size()` of a number, boolean or null is missing, so a comparison on it is false.
 */
import { parseCondition } from './condition-parser.js';
import type { ExpressionAttributeNames, ExpressionAttributeValues } from './parser.js';
import { Substitutions } from './parser.js';
import type { DocumentPath } from './paths.js';
import { pathReader } from './paths.js';
import type { AttributeType, AttributeValue, Item } from './values.js';
import { beginsWith, compareOrdered, containsValue, sizeOf, typeOf, valuesEqual } from './values.js';

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Operand =
  | { readonly kind: 'path'; readonly path: DocumentPath }
  | { readonly kind: 'value'; readonly value: AttributeValue; readonly placeholder: string }
  | { readonly kind: 'size'; readonly operand: Operand };

export type Condition =
  | {
      readonly kind: 'comparison';
      readonly comparator: Comparator;
      readonly left: Operand;
      readonly right: Operand;
    }
  | { readonly kind: 'between'; readonly operand: Operand; readonly lower: Operand; readonly upper: Operand }
  | { readonly kind: 'in'; readonly operand: Operand; readonly candidates: readonly Operand[] }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly condition: Condition }
  | { readonly kind: 'attribute_exists' | 'attribute_not_exists'; readonly path: DocumentPath }
  | { readonly kind: 'attribute_type'; readonly operand: Operand; readonly type: AttributeType }
  | { readonly kind: 'begins_with'; readonly operand: Operand; readonly prefix: Operand }
  | { readonly kind: 'contains'; readonly operand: Operand; readonly element: Operand };

export type ConditionKind = 'ConditionExpression' | 'FilterExpression';

export interface CompiledCondition {
  readonly kind: ConditionKind;
  readonly expression: string;
  readonly ast: Condition;
  /** True when the item satisfies the condition; a missing item (undefined) has no attributes. */
  readonly evaluate: (item: Item | undefined) => boolean;
}

type Reader = (item: Item) => AttributeValue | undefined;
type Predicate = (item: Item) => boolean;

const noAttributes: Item = Object.freeze({});

function compileOperand(operand: Operand): Reader {
  switch (operand.kind) {
    case 'path':
      return pathReader(operand.path);
    case 'value': {
      const value = operand.value;
      return () => value;
    }
    case 'size': {
      const inner = compileOperand(operand.operand);
      return (item) => sizeOf(inner(item));
    }
  }
}

function compileComparison(comparator: Comparator, left: Reader, right: Reader): Predicate {
  switch (comparator) {
    case '=':
      return (item) => valuesEqual(left(item), right(item));
    case '<>':
      return (item) => {
        const a = left(item);
        const b = right(item);
        return a === undefined || b === undefined || !valuesEqual(a, b);
      };
    case '<':
      return (item) => (compareOrdered(left(item), right(item)) ?? 0) < 0;
    case '<=':
      return (item) => {
        const order = compareOrdered(left(item), right(item));
        return order !== undefined && order <= 0;
      };
    case '>':
      return (item) => (compareOrdered(left(item), right(item)) ?? 0) > 0;
    case '>=':
      return (item) => {
        const order = compareOrdered(left(item), right(item));
        return order !== undefined && order >= 0;
      };
  }
}

function compileIn(operand: Reader, candidates: readonly Operand[]): Predicate {
  // A list of string and number literals becomes one hash lookup.
  if (
    candidates.every(
      (c) => c.kind === 'value' && (typeof c.value === 'string' || typeof c.value === 'number'),
    )
  ) {
    const set = new Set(candidates.map((c) => (c.kind === 'value' ? c.value : undefined)));
    return (item) => {
      const value = operand(item);
      return (typeof value === 'string' || typeof value === 'number') && set.has(value);
    };
  }
  const readers = candidates.map(compileOperand);
  return (item) => {
    const value = operand(item);
    if (value === undefined) return false;
    for (const reader of readers) if (valuesEqual(value, reader(item))) return true;
    return false;
  };
}

function compilePredicate(condition: Condition): Predicate {
  switch (condition.kind) {
    case 'comparison':
      return compileComparison(
        condition.comparator,
        compileOperand(condition.left),
        compileOperand(condition.right),
      );
    case 'between': {
      const operand = compileOperand(condition.operand);
      const lower = compileOperand(condition.lower);
      const upper = compileOperand(condition.upper);
      return (item) => {
        const value = operand(item);
        const low = compareOrdered(value, lower(item));
        if (low === undefined || low < 0) return false;
        const high = compareOrdered(value, upper(item));
        return high !== undefined && high <= 0;
      };
    }
    case 'in':
      return compileIn(compileOperand(condition.operand), condition.candidates);
    case 'and': {
      const left = compilePredicate(condition.left);
      const right = compilePredicate(condition.right);
      return (item) => left(item) && right(item);
    }
    case 'or': {
      const left = compilePredicate(condition.left);
      const right = compilePredicate(condition.right);
      return (item) => left(item) || right(item);
    }
    case 'not': {
      const inner = compilePredicate(condition.condition);
      return (item) => !inner(item);
    }
    case 'attribute_exists': {
      const read = pathReader(condition.path);
      return (item) => read(item) !== undefined;
    }
    case 'attribute_not_exists': {
      const read = pathReader(condition.path);
      return (item) => read(item) === undefined;
    }
    case 'attribute_type': {
      const operand = compileOperand(condition.operand);
      const type = condition.type;
      return (item) => typeOf(operand(item)) === type;
    }
    case 'begins_with': {
      const operand = compileOperand(condition.operand);
      const prefix = compileOperand(condition.prefix);
      return (item) => beginsWith(operand(item), prefix(item));
    }
    case 'contains': {
      const operand = compileOperand(condition.operand);
      const element = compileOperand(condition.element);
      return (item) => containsValue(operand(item), element(item));
    }
  }
}

const predicates = new WeakMap<Condition, Predicate>();

function predicateFor(condition: Condition): Predicate {
  let predicate = predicates.get(condition);
  if (predicate === undefined) {
    predicate = compilePredicate(condition);
    predicates.set(condition, predicate);
  }
  return predicate;
}

/** Evaluates a parsed condition against an item (undefined: the item does not exist). */
export function evaluateCondition(condition: Condition, item: Item | undefined): boolean {
  return predicateFor(condition)(item ?? noAttributes);
}

/**
 * Parses and validates a ConditionExpression (or FilterExpression) once; the result evaluates many
 * items. Unused placeholders are rejected, as DynamoDB does for a request with this one expression;
 * use `compileExpressions` when a request carries several expressions sharing placeholders.
 */
export function compileCondition(
  expression: string,
  names?: ExpressionAttributeNames,
  values?: ExpressionAttributeValues,
  kind: ConditionKind = 'ConditionExpression',
): CompiledCondition {
  const scope = new Substitutions(names, values);
  const compiled = conditionFromScope(kind, expression, scope);
  scope.assertAllUsed();
  return compiled;
}

export function conditionFromScope(
  kind: ConditionKind,
  expression: string,
  scope: Substitutions,
): CompiledCondition {
  const ast = parseCondition(kind, expression, scope);
  const predicate = predicateFor(ast);
  return { kind, expression, ast, evaluate: (item) => predicate(item ?? noAttributes) };
}
