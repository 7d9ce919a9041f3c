/**
 * Document paths: `a.b[0].c` resolved to `['a', 'b', 0, 'c']` after `#name` substitution. A string
 * element reads a map entry, a number reads a list element. The first element is always a string.
 */
import type { AttributeMap, AttributeValue, Item } from './values.js';
import { hasOwn, isMap } from './values.js';

export type PathElement = string | number;
export type DocumentPath = readonly PathElement[];

/** The value at `path`, or undefined when any step is missing or of the wrong type. */
export function readPath(item: Item, path: DocumentPath): AttributeValue | undefined {
  let current: AttributeValue | undefined = item;
  for (const element of path) {
    if (typeof element === 'string') {
      if (!isMap(current) || !hasOwn(current, element)) return undefined;
      current = (current as AttributeMap)[element];
    } else {
      if (!Array.isArray(current) || element >= current.length) return undefined;
      current = (current as readonly AttributeValue[])[element];
    }
  }
  return current;
}

/** A reader specialised for the path, so the common top-level case costs one property lookup. */
export function pathReader(path: DocumentPath): (item: Item) => AttributeValue | undefined {
  const [first] = path;
  if (path.length === 1 && typeof first === 'string') {
    return (item) => (hasOwn(item, first) ? item[first] : undefined);
  }
  return (item) => readPath(item, path);
}

/** DynamoDB's rendering in messages: `[a, b, [0]]`. */
export function formatPath(path: DocumentPath): string {
  return `[${path.map((element) => (typeof element === 'number' ? `[${element}]` : element)).join(', ')}]`;
}

export type PathClash = 'overlap' | 'conflict';

/**
 * Two paths overlap when one is a prefix of the other (or they are equal), and conflict when at the
 * same depth one indexes a list and the other a map, before they diverge.
 */
export function pathClash(a: DocumentPath, b: DocumentPath): PathClash | undefined {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (typeof a[i] !== typeof b[i]) return 'conflict';
    if (a[i] !== b[i]) return undefined;
  }
  return 'overlap';
}

export function clashMessage(clash: PathClash, one: DocumentPath, two: DocumentPath): string {
  const verb = clash === 'overlap' ? 'overlap' : 'conflict';
  return (
    `Two document paths ${verb} with each other; must remove or rewrite one of these paths; ` +
    `path one: ${formatPath(one)}, path two: ${formatPath(two)}`
  );
}

/** A total order that puts list indexes under the same parent in ascending order. */
export function comparePaths(a: DocumentPath, b: DocumentPath): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] as PathElement;
    const y = b[i] as PathElement;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return 1;
    if (typeof y === 'number') return -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
