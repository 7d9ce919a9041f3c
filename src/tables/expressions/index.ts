/**
 * DynamoDB expressions over plain-JSON items: parse and validate once, evaluate many times.
 *
 * Sluice's table API takes DynamoDB's expression strings with ExpressionAttributeNames (`#n`) and
 * ExpressionAttributeValues (`:v`, plain JSON values rather than `{S: ...}` wrappers). Each expression
 * kind compiles to a reusable object: a condition to a predicate, an update to a pure function from
 * item to item, a key condition to a structure a store turns into SQL, a projection to a list of paths.
 * Every problem is a `SluiceError('ValidationException')` whose message follows DynamoDB's wording
 * ("Invalid ConditionExpression: Syntax error; token: \"AND\", near: \"a AND AND\"").
 *
 * Values: string S, number N, boolean BOOL, null NULL, Uint8Array B, array L, plain object M, and a
 * non-empty `Set` of strings, numbers or Uint8Arrays SS/NS/BS (see values.ts). Numbers are JavaScript
 * doubles, so arithmetic is not DynamoDB's 38-digit decimal arithmetic.
 *
 * A request with several expressions shares one set of placeholders, and DynamoDB rejects a placeholder
 * that none of them uses; `compileExpressions` checks that across the request. The single-expression
 * `compile*` functions check it for that expression alone.
 */
import { SluiceError } from '../../model/errors.js';
import type { CompiledCondition } from './condition.js';
import { conditionFromScope } from './condition.js';
import type { KeyCondition, KeySchema } from './key-condition.js';
import { keyConditionFromScope } from './key-condition.js';
import type { ExpressionAttributeNames, ExpressionAttributeValues } from './parser.js';
import { Substitutions, validationError } from './parser.js';
import type { CompiledProjection } from './projection.js';
import { projectionFromScope } from './projection.js';
import type { CompiledUpdate } from './update.js';
import { updateFromScope } from './update.js';

export type { Comparator, CompiledCondition, Condition, ConditionKind, Operand } from './condition.js';
export { compileCondition, evaluateCondition } from './condition.js';
export type { KeyCondition, KeySchema, KeyValue, SortKeyOperator } from './key-condition.js';
export { compileKeyCondition, matchesKeyCondition } from './key-condition.js';
export type { ExpressionAttributeNames, ExpressionAttributeValues, ExpressionKind } from './parser.js';
export { maxExpressionBytes, maxOperators } from './parser.js';
export type { DocumentPath, PathElement } from './paths.js';
export { readPath } from './paths.js';
export type { CompiledProjection } from './projection.js';
export { compileProjection, project } from './projection.js';
export { isReservedWord } from './reserved-words.js';
export type {
  AddAction,
  CompiledUpdate,
  DeleteAction,
  SetAction,
  UpdateAst,
  UpdateOperand,
  UpdateValue,
} from './update.js';
export { applyUpdate, assertKeyAttributesUnchanged, compileUpdate, updatedAttributes } from './update.js';
export type { AttributeMap, AttributeType, AttributeValue, Item, ScalarValue, SetValue } from './values.js';
export { compareOrdered, typeOf, valuesEqual } from './values.js';
export { NumberValue, type DynamoNumber } from './numbers.js';

export interface ExpressionRequest {
  readonly conditionExpression?: string | undefined;
  readonly updateExpression?: string | undefined;
  readonly keyConditionExpression?: string | undefined;
  readonly filterExpression?: string | undefined;
  readonly projectionExpression?: string | undefined;
  readonly expressionAttributeNames?: ExpressionAttributeNames | undefined;
  readonly expressionAttributeValues?: ExpressionAttributeValues | undefined;
  /** The table's or index's key schema; required with a key condition. */
  readonly keySchema?: KeySchema | undefined;
}

export interface CompiledExpressions {
  readonly condition?: CompiledCondition;
  readonly update?: CompiledUpdate;
  readonly keyCondition?: KeyCondition;
  readonly filter?: CompiledCondition;
  readonly projection?: CompiledProjection;
}

/**
 * Compiles every expression of one request against its shared placeholders, in DynamoDB's order
 * (update, condition, key condition, filter, projection), then rejects unused placeholders.
 */
export function compileExpressions(request: ExpressionRequest): CompiledExpressions {
  const names = request.expressionAttributeNames;
  const values = request.expressionAttributeValues;
  if (names !== undefined && Object.keys(names).length === 0) {
    throw validationError('ExpressionAttributeNames must not be empty', 'ExpressionAttributeNames');
  }
  if (values !== undefined && Object.keys(values).length === 0) {
    throw validationError('ExpressionAttributeValues must not be empty', 'ExpressionAttributeValues');
  }
  const scope = new Substitutions(names, values);
  const compiled: {
    condition?: CompiledCondition;
    update?: CompiledUpdate;
    keyCondition?: KeyCondition;
    filter?: CompiledCondition;
    projection?: CompiledProjection;
  } = {};
  if (request.updateExpression !== undefined)
    compiled.update = updateFromScope(request.updateExpression, scope);
  if (request.conditionExpression !== undefined) {
    compiled.condition = conditionFromScope('ConditionExpression', request.conditionExpression, scope);
  }
  if (request.keyConditionExpression !== undefined) {
    if (request.keySchema === undefined) {
      throw new SluiceError('MissingParameter', 'keySchema: required to compile a KeyConditionExpression', {
        field: 'keySchema',
      });
    }
    compiled.keyCondition = keyConditionFromScope(request.keyConditionExpression, scope, request.keySchema);
  }
  if (request.filterExpression !== undefined) {
    compiled.filter = conditionFromScope('FilterExpression', request.filterExpression, scope);
  }
  if (request.projectionExpression !== undefined) {
    compiled.projection = projectionFromScope(request.projectionExpression, scope);
  }
  scope.assertAllUsed();
  return compiled;
}
