/**
 * ProjectionExpression: a comma-separated list of document paths, and the projection of an item onto
 * them. Projected list elements keep their relative order and close up (`a[0], a[2]` of `[x, y, z]`
 * gives `[x, z]`); a path that does not resolve contributes nothing, and a parent left empty is dropped.
 */
import type { ExpressionAttributeNames, ExpressionAttributeValues } from './parser.js';
import { ExpressionParser, Substitutions } from './parser.js';
import type { DocumentPath } from './paths.js';
import { clashMessage, pathClash } from './paths.js';
import type { AttributeValue, Item } from './values.js';
import { cloneValue, defineEntry, hasOwn, isMap } from './values.js';

export interface CompiledProjection {
  readonly expression: string;
  readonly paths: readonly DocumentPath[];
  readonly project: (item: Item) => Item;
}

const priorities = ['reserved', 'name', 'pathDepth', 'overlap', 'conflict'];

class ProjectionParser extends ExpressionParser {
  constructor(source: string, scope: Substitutions) {
    super('ProjectionExpression', source, scope, priorities);
  }

  protected isKeyword(): boolean {
    return false;
  }

  parse(): DocumentPath[] {
    const paths: DocumentPath[] = [this.parsePath().path];
    while (this.atPunctuation(',')) {
      this.advance();
      const path = this.parsePath().path;
      for (const earlier of paths) {
        const clash = pathClash(earlier, path);
        if (clash !== undefined) this.report(clash, clashMessage(clash, earlier, path));
      }
      paths.push(path);
    }
    this.finish();
    return paths;
  }
}

interface ProjectionNode {
  leaf: boolean;
  readonly keys: Map<string, ProjectionNode>;
  readonly indexes: Map<number, ProjectionNode>;
}

const newNode = (): ProjectionNode => ({ leaf: false, keys: new Map(), indexes: new Map() });

function buildTree(paths: readonly DocumentPath[]): ProjectionNode {
  const root = newNode();
  for (const path of paths) {
    let node = root;
    for (const element of path) {
      const children: Map<string | number, ProjectionNode> =
        typeof element === 'string' ? node.keys : node.indexes;
      let child = children.get(element);
      if (child === undefined) {
        child = newNode();
        children.set(element, child);
      }
      node = child;
    }
    node.leaf = true;
  }
  return root;
}

function projectValue(node: ProjectionNode, value: AttributeValue): AttributeValue | undefined {
  if (node.leaf) return cloneValue(value);
  if (isMap(value) && node.keys.size > 0) {
    const result: Record<string, AttributeValue> = {};
    let found = false;
    for (const [key, child] of node.keys) {
      if (!hasOwn(value, key)) continue;
      const projected = projectValue(child, value[key] as AttributeValue);
      if (projected === undefined) continue;
      defineEntry(result, key, projected);
      found = true;
    }
    return found ? result : undefined;
  }
  if (Array.isArray(value) && node.indexes.size > 0) {
    const result: AttributeValue[] = [];
    const indexes = [...node.indexes.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      if (index >= value.length) continue;
      const projected = projectValue(
        node.indexes.get(index) as ProjectionNode,
        value[index] as AttributeValue,
      );
      if (projected !== undefined) result.push(projected);
    }
    return result.length > 0 ? result : undefined;
  }
  return undefined;
}

const trees = new WeakMap<readonly DocumentPath[], ProjectionNode>();

/** The item reduced to the given paths. */
export function project(paths: readonly DocumentPath[], item: Item): Item {
  let tree = trees.get(paths);
  if (tree === undefined) {
    tree = buildTree(paths);
    trees.set(paths, tree);
  }
  return (projectValue(tree, item) as Item | undefined) ?? {};
}

export function projectionFromScope(expression: string, scope: Substitutions): CompiledProjection {
  const paths = new ProjectionParser(expression, scope).parse();
  return { expression, paths, project: (item) => project(paths, item) };
}

/** Parses and validates a ProjectionExpression once; unused name placeholders are rejected. */
export function compileProjection(
  expression: string,
  names?: ExpressionAttributeNames,
  values?: ExpressionAttributeValues,
): CompiledProjection {
  const scope = new Substitutions(names, values);
  const compiled = projectionFromScope(expression, scope);
  scope.assertAllUsed();
  return compiled;
}
