/**
 * UpdateExpression: the syntax tree and its application to an item.
 *
 * `applyUpdate` is pure: it copies only the containers it changes (copy-on-write along each target
 * path) and deep-copies the values it stores, so neither the input item nor the compiled expression is
 * ever shared with or changed by the result. DynamoDB's semantics, as applied:
 * - every right-hand side is read from the item as it was before the update (`SET a = b, b = a` swaps);
 * - list indexes refer to positions before the update: SETs apply first (a SET past the end appends,
 *   several in ascending index order), then REMOVEs from the highest index down;
 * - reading a missing attribute (`b + :n`, `list_append(b, :l)`, `SET a = b`) is a ValidationException,
 *   as is writing below a missing or mistyped parent (`SET a.b` when `a` is not a map), except that
 *   REMOVE on an item that does not exist does nothing;
 * - ADD adds to a number or unions a set (creating either when missing); DELETE subtracts from a set
 *   and removes the attribute when the set becomes empty.
 */
import type { ExpressionAttributeNames, ExpressionAttributeValues } from './parser.js';
import { Substitutions, validationError } from './parser.js';
import type { DocumentPath, PathElement } from './paths.js';
import { comparePaths, readPath } from './paths.js';
import { parseUpdate } from './update-parser.js';
import type { AttributeMap, AttributeValue, Item, SetValue } from './values.js';
import { cloneValue, defineEntry, hasOwn, isMap, setHas, typeOf } from './values.js';
import { addNumbers, isDynamoNumber, type DynamoNumber } from './numbers.js';

export type UpdateOperand =
  | { readonly kind: 'path'; readonly path: DocumentPath }
  | { readonly kind: 'value'; readonly value: AttributeValue; readonly placeholder: string }
  | { readonly kind: 'if_not_exists'; readonly path: DocumentPath; readonly fallback: UpdateOperand }
  | { readonly kind: 'list_append'; readonly first: UpdateOperand; readonly second: UpdateOperand };

export type UpdateValue =
  | UpdateOperand
  | { readonly kind: 'plus'; readonly left: UpdateOperand; readonly right: UpdateOperand }
  | { readonly kind: 'minus'; readonly left: UpdateOperand; readonly right: UpdateOperand };

export interface SetAction {
  readonly path: DocumentPath;
  readonly value: UpdateValue;
}

export interface AddAction {
  readonly path: DocumentPath;
  readonly value: DynamoNumber | SetValue;
}

export interface DeleteAction {
  readonly path: DocumentPath;
  readonly value: SetValue;
}

export interface UpdateAst {
  readonly set: readonly SetAction[];
  readonly remove: readonly DocumentPath[];
  readonly add: readonly AddAction[];
  readonly delete: readonly DeleteAction[];
}

export interface CompiledUpdate {
  readonly expression: string;
  readonly ast: UpdateAst;
  /** The top-level attributes the update writes or removes, for the key-attribute check. */
  readonly updatedAttributes: readonly string[];
  /** The item after the update; undefined input means the item does not exist yet. */
  readonly apply: (item: Item | undefined) => Item;
}

const noAttributes: Item = Object.freeze({});

const missingAttribute = (): Error =>
  validationError('The provided expression refers to an attribute that does not exist in the item');
const incorrectType = (): Error =>
  validationError('An operand in the update expression has an incorrect data type');
const invalidPath = (): Error =>
  validationError('The document path provided in the update expression is invalid for update');


function evaluateOperand(operand: UpdateOperand, item: Item): AttributeValue {
  switch (operand.kind) {
    case 'path': {
      const value = readPath(item, operand.path);
      if (value === undefined) throw missingAttribute();
      return value;
    }
    case 'value':
      return operand.value;
    case 'if_not_exists':
      return readPath(item, operand.path) ?? evaluateOperand(operand.fallback, item);
    case 'list_append': {
      const first = evaluateOperand(operand.first, item);
      const second = evaluateOperand(operand.second, item);
      if (!Array.isArray(first) || !Array.isArray(second)) throw incorrectType();
      return [...(first as readonly AttributeValue[]), ...(second as readonly AttributeValue[])];
    }
  }
}

function evaluateValue(value: UpdateValue, item: Item): AttributeValue {
  if (value.kind !== 'plus' && value.kind !== 'minus') return evaluateOperand(value, item);
  const left = evaluateOperand(value.left, item);
  const right = evaluateOperand(value.right, item);
  if (!isDynamoNumber(left) || !isDynamoNumber(right)) throw incorrectType();
  return addNumbers(left, right, value.kind === 'minus');
}

type Container = Record<string, AttributeValue> | AttributeValue[];

/** Copy-on-write access to the new item: a container is copied the first time a path goes through it. */
class ItemWriter {
  readonly root: Record<string, AttributeValue>;
  /** Containers this update created, which it may therefore change in place. */
  private owned: Set<object> | undefined;

  constructor(
    base: Item,
    private readonly itemExists: boolean,
  ) {
    this.root = copyMap(base);
  }

  /** The container holding the path's last element, or undefined when a parent is missing or mistyped. */
  private parentOf(path: DocumentPath): Container | undefined {
    let container: Container = this.root;
    for (let i = 0; i < path.length - 1; i++) {
      const element = path[i] as PathElement;
      const child = childOf(container, element);
      const wantsMap = typeof path[i + 1] === 'string';
      if (wantsMap ? !isMap(child) : !Array.isArray(child)) return undefined;
      const copy = this.own(child as Container);
      if (copy !== child) putChild(container, element, copy);
      container = copy;
    }
    return container;
  }

  private own(container: Container): Container {
    if (container === this.root || this.owned?.has(container) === true) return container;
    const copy: Container = Array.isArray(container) ? container.slice() : copyMap(container);
    (this.owned ??= new Set()).add(copy);
    return copy;
  }

  set(path: DocumentPath, value: AttributeValue): void {
    const parent = this.parentOf(path);
    if (parent === undefined) throw invalidPath();
    const last = path[path.length - 1] as PathElement;
    if (!Array.isArray(parent)) defineEntry(parent, last as string, value);
    else if ((last as number) < parent.length) parent[last as number] = value;
    else parent.push(value);
  }

  remove(path: DocumentPath): void {
    const parent = this.parentOf(path);
    if (parent === undefined) {
      if (this.itemExists) throw invalidPath();
      return;
    }
    const last = path[path.length - 1] as PathElement;
    if (!Array.isArray(parent)) delete parent[last as string];
    else if ((last as number) < parent.length) parent.splice(last as number, 1);
  }
}

/**
 * A shallow copy that stays fast to extend: V8 makes an object built by spread slow to add properties
 * to (about 800 ns against 90 ns for Object.assign, measured on Node 20). Object.assign would treat an
 * own `__proto__` key as the prototype, so that rare case takes the spread.
 */
function copyMap(map: AttributeMap): Record<string, AttributeValue> {
  return hasOwn(map, '__proto__') ? { ...map } : Object.assign({}, map);
}

function childOf(container: Container, element: PathElement): AttributeValue | undefined {
  if (Array.isArray(container)) return typeof element === 'number' ? container[element] : undefined;
  return typeof element === 'string' && hasOwn(container, element)
    ? (container as AttributeMap)[element]
    : undefined;
}

function putChild(container: Container, element: PathElement, value: AttributeValue): void {
  if (Array.isArray(container)) container[element as number] = value;
  else defineEntry(container, element as string, value);
}

function addToSet(existing: AttributeValue | undefined, value: SetValue): SetValue {
  if (existing === undefined) return cloneValue(value);
  if (typeOf(existing) !== typeOf(value)) throw incorrectType();
  const union = new Set<unknown>(existing as ReadonlySet<unknown>);
  for (const element of value as ReadonlySet<AttributeValue>)
    if (!setHas(existing as SetValue, element)) union.add(element);
  return union as SetValue;
}

function deleteFromSet(existing: SetValue, value: SetValue): Set<unknown> {
  if (typeOf(existing) !== typeOf(value)) throw incorrectType();
  const remaining = new Set<unknown>();
  for (const element of existing as ReadonlySet<AttributeValue>)
    if (!setHas(value, element)) remaining.add(element);
  return remaining;
}

interface ApplyOrder {
  /** Indexes into `set`, list elements in ascending index order. */
  readonly set: readonly number[];
  /** `remove` paths, list elements in descending index order. */
  readonly remove: readonly DocumentPath[];
}

const orders = new WeakMap<UpdateAst, ApplyOrder>();

function applyOrder(update: UpdateAst): ApplyOrder {
  let order = orders.get(update);
  if (order === undefined) {
    const set = update.set.map((_, index) => index);
    set.sort((a, b) => comparePaths((update.set[a] as SetAction).path, (update.set[b] as SetAction).path));
    const remove = [...update.remove].sort((a, b) => comparePaths(b, a));
    order = { set, remove };
    orders.set(update, order);
  }
  return order;
}

/** Applies a parsed update to an item (undefined: the item does not exist) and returns the new item. */
export function applyUpdate(update: UpdateAst, item: Item | undefined): Item {
  const original = item ?? noAttributes;
  const order = applyOrder(update);
  const values = update.set.map((action) => evaluateValue(action.value, original));
  const writer = new ItemWriter(original, item !== undefined);
  for (const index of order.set) {
    writer.set((update.set[index] as SetAction).path, cloneValue(values[index] as AttributeValue));
  }
  for (const { path, value } of update.add) {
    const existing = readPath(original, path);
    if (isDynamoNumber(value)) {
      if (existing !== undefined && !isDynamoNumber(existing)) throw incorrectType();
      writer.set(path, addNumbers(existing ?? 0, value));
    } else {
      writer.set(path, addToSet(existing, value));
    }
  }
  for (const { path, value } of update.delete) {
    const existing = readPath(original, path);
    if (existing === undefined) continue;
    if (!(existing instanceof Set)) throw incorrectType();
    const remaining = deleteFromSet(existing, value);
    if (remaining.size === 0) writer.remove(path);
    else writer.set(path, remaining as SetValue);
  }
  for (const path of order.remove) writer.remove(path);
  return writer.root;
}

/** The distinct top-level attribute names an update writes or removes, in order of appearance. */
export function updatedAttributes(update: UpdateAst): string[] {
  const names = new Set<string>();
  const note = (path: DocumentPath): void => {
    names.add(path[0] as string);
  };
  for (const action of update.set) note(action.path);
  for (const path of update.remove) note(path);
  for (const action of update.add) note(action.path);
  for (const action of update.delete) note(action.path);
  return [...names];
}

/** DynamoDB refuses an update that touches a key attribute. */
export function assertKeyAttributesUnchanged(
  update: UpdateAst | CompiledUpdate,
  keyAttributes: readonly string[],
): void {
  const touched = 'ast' in update ? update.updatedAttributes : updatedAttributes(update);
  for (const key of keyAttributes) {
    if (touched.includes(key)) {
      throw validationError(
        `One or more parameter values were invalid: Cannot update attribute ${key}. This attribute is part of the key`,
        'UpdateExpression',
      );
    }
  }
}

export function updateFromScope(expression: string, scope: Substitutions): CompiledUpdate {
  const ast = parseUpdate(expression, scope);
  return {
    expression,
    ast,
    updatedAttributes: updatedAttributes(ast),
    apply: (item) => applyUpdate(ast, item),
  };
}

/** Parses and validates an UpdateExpression once; unused placeholders are rejected. */
export function compileUpdate(
  expression: string,
  names?: ExpressionAttributeNames,
  values?: ExpressionAttributeValues,
): CompiledUpdate {
  const scope = new Substitutions(names, values);
  const compiled = updateFromScope(expression, scope);
  scope.assertAllUsed();
  return compiled;
}
