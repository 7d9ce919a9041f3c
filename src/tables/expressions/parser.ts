/**
 * What every expression parser shares: placeholder substitution with use tracking, the token cursor,
 * DynamoDB-shaped syntax errors, document paths, limits, and deferred semantic errors.
 *
 * DynamoDB reports a syntax error before any semantic problem, and among semantic problems a fixed
 * precedence (a reserved word before an undefined placeholder, for instance). So semantic problems are
 * recorded by category while parsing, and `finish()` throws the highest-ranked one once the whole
 * expression has parsed.
 */
import { SluiceError } from '../../model/errors.js';
import type { PathElement } from './paths.js';
import { isReservedWord } from './reserved-words.js';
import type { Token } from './tokens.js';
import { tokenize } from './tokens.js';
import type { AttributeValue } from './values.js';
import { findValueProblem, hasOwn, maxNestingDepth } from './values.js';

export type ExpressionKind =
  | 'ConditionExpression'
  | 'FilterExpression'
  | 'KeyConditionExpression'
  | 'UpdateExpression'
  | 'ProjectionExpression';

export type ExpressionAttributeNames = Readonly<Record<string, string>>;
export type ExpressionAttributeValues = Readonly<Record<string, AttributeValue>>;

/** DynamoDB's limit on any expression string, in UTF-8 bytes, before substitution. */
export const maxExpressionBytes = 4096;
/** DynamoDB's limit on operators and functions in one expression. */
export const maxOperators = 300;
/** Our own guard on parenthesis, function and NOT nesting, so parsing can never exhaust the stack. */
export const maxNesting = 64;

export function validationError(message: string, field?: string): SluiceError {
  return new SluiceError('ValidationException', message, field === undefined ? {} : { field });
}

export function invalidExpression(kind: ExpressionKind, message: string): SluiceError {
  return validationError(`Invalid ${kind}: ${message}`, kind);
}

const placeholderKey = /^[#:][0-9A-Za-z_]+$/;

/**
 * ExpressionAttributeNames and ExpressionAttributeValues for one request, validated once, with the
 * placeholders every parsed expression used, so unused ones can be rejected across all of them.
 */
export class Substitutions {
  readonly usedNames = new Set<string>();
  readonly usedValues = new Set<string>();
  private readonly names: ExpressionAttributeNames;
  private readonly values: ExpressionAttributeValues;

  constructor(names: ExpressionAttributeNames | undefined, values: ExpressionAttributeValues | undefined) {
    this.names = names ?? {};
    this.values = values ?? {};
    for (const key of Object.keys(this.names)) {
      if (!placeholderKey.test(key) || !key.startsWith('#')) {
        throw validationError(
          `ExpressionAttributeNames contains invalid key: Syntax error; key: "${key}"`,
          'ExpressionAttributeNames',
        );
      }
      const name: unknown = this.names[key];
      if (typeof name !== 'string' || name.length === 0) {
        throw validationError(
          `ExpressionAttributeNames contains invalid value: the attribute name must be a non-empty string for key ${key}`,
          'ExpressionAttributeNames',
        );
      }
    }
    for (const key of Object.keys(this.values)) {
      if (!placeholderKey.test(key) || !key.startsWith(':')) {
        throw validationError(
          `ExpressionAttributeValues contains invalid key: Syntax error; key: "${key}"`,
          'ExpressionAttributeValues',
        );
      }
    }
    for (const key of Object.keys(this.values)) {
      const problem = findValueProblem(this.values[key]);
      if (problem !== undefined) {
        throw validationError(
          `ExpressionAttributeValues contains invalid value: ${problem} for key ${key}`,
          'ExpressionAttributeValues',
        );
      }
    }
  }

  name(placeholder: string): string | undefined {
    if (!hasOwn(this.names, placeholder)) return undefined;
    this.usedNames.add(placeholder);
    return this.names[placeholder];
  }

  value(placeholder: string): AttributeValue | undefined {
    if (!hasOwn(this.values, placeholder)) return undefined;
    this.usedValues.add(placeholder);
    return this.values[placeholder];
  }

  /** DynamoDB rejects placeholders that no expression of the request used, names first. */
  assertAllUsed(): void {
    const unusedNames = Object.keys(this.names).filter((key) => !this.usedNames.has(key));
    if (unusedNames.length > 0) {
      throw validationError(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
        'ExpressionAttributeNames',
      );
    }
    const unusedValues = Object.keys(this.values).filter((key) => !this.usedValues.has(key));
    if (unusedValues.length > 0) {
      throw validationError(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
        'ExpressionAttributeValues',
      );
    }
  }
}

export interface ParsedPath {
  readonly path: PathElement[];
  readonly token: Token;
}

/** Rejects empty and oversized expressions before tokenizing them. */
export function checkExpressionText(kind: ExpressionKind, source: unknown): string {
  if (typeof source !== 'string') throw invalidExpression(kind, 'The expression must be a string;');
  if (source.length === 0) throw invalidExpression(kind, 'The expression can not be empty;');
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > maxExpressionBytes) {
    throw invalidExpression(
      kind,
      `Expression size has exceeded the maximum allowed size; expression size: ${bytes}`,
    );
  }
  return source;
}

export abstract class ExpressionParser {
  protected readonly tokens: Token[];
  protected position = 0;
  protected operatorCount = 0;
  private nesting = 0;
  private readonly problems = new Map<string, string>();

  protected constructor(
    protected readonly kind: ExpressionKind,
    protected readonly source: string,
    protected readonly scope: Substitutions,
    private readonly priorities: readonly string[],
  ) {
    this.tokens = tokenize(checkExpressionText(kind, source));
  }

  /** True for identifiers this grammar treats as keywords rather than attribute names. */
  protected abstract isKeyword(token: Token): boolean;

  protected peek(offset = 0): Token {
    return this.tokens[Math.min(this.position + offset, this.tokens.length - 1)] as Token;
  }

  protected advance(): Token {
    const token = this.peek();
    if (token.type !== 'end') this.position++;
    return token;
  }

  protected atPunctuation(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.type === 'punctuation' && token.text === text;
  }

  protected atWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.type === 'identifier' && token.text.toUpperCase() === word;
  }

  protected expectPunctuation(text: string): Token {
    if (!this.atPunctuation(text)) this.syntaxError();
    return this.advance();
  }

  /** DynamoDB's form: the offending token, and the source from the token before it to the one after. */
  protected syntaxError(token: Token = this.peek()): never {
    const index = this.tokens.indexOf(token);
    const previous = index > 0 ? (this.tokens[index - 1] as Token) : token;
    const following = this.tokens[index + 1];
    const last =
      token.type !== 'end' && following !== undefined && following.type !== 'end' ? following : token;
    const end = last.type === 'end' ? previous.end : last.end;
    const near = this.source.slice(previous.start, Math.max(end, previous.end));
    throw invalidExpression(this.kind, `Syntax error; token: "${token.text}", near: "${near}"`);
  }

  /** Records a semantic problem; the first of each category wins. */
  protected report(category: string, message: string): void {
    if (!this.problems.has(category)) this.problems.set(category, message);
  }

  protected enterNesting(): void {
    this.nesting++;
    if (this.nesting > maxNesting) {
      throw invalidExpression(
        this.kind,
        `The expression is nested too deeply; nesting levels exceed ${maxNesting}`,
      );
    }
  }

  protected leaveNesting(): void {
    this.nesting--;
  }

  protected countOperator(): void {
    this.operatorCount++;
  }

  /** Requires the end of input, then throws the highest-ranked semantic problem, if any. */
  protected finish(): void {
    if (this.peek().type !== 'end') this.syntaxError();
    if (this.operatorCount > maxOperators) {
      throw invalidExpression(
        this.kind,
        `The expression contains too many operators; operator count: ${this.operatorCount}`,
      );
    }
    for (const category of this.priorities) {
      const message = this.problems.get(category);
      if (message !== undefined) throw invalidExpression(this.kind, message);
    }
    for (const message of this.problems.values()) throw invalidExpression(this.kind, message);
  }

  protected atPathStart(): boolean {
    const token = this.peek();
    return token.type === 'name' || (token.type === 'identifier' && !this.isKeyword(token));
  }

  /** `a.#b[0].c`: names resolved, bare names checked against the reserved words. */
  protected parsePath(): ParsedPath {
    const token = this.peek();
    const path: PathElement[] = [this.parsePathName()];
    for (;;) {
      if (this.atPunctuation('.')) {
        this.advance();
        path.push(this.parsePathName());
      } else if (this.atPunctuation('[')) {
        this.advance();
        const index = this.peek();
        if (index.type !== 'number') this.syntaxError();
        this.advance();
        this.expectPunctuation(']');
        path.push(Number(index.text));
      } else {
        break;
      }
    }
    if (path.length > maxNestingDepth) {
      this.report(
        'pathDepth',
        `The document path has too many nesting levels; nesting levels: ${path.length}`,
      );
    }
    return { path, token };
  }

  private parsePathName(): string {
    const token = this.peek();
    if (token.type === 'name') {
      this.advance();
      const name = this.scope.name(token.text);
      if (name === undefined) {
        this.report(
          'name',
          `An expression attribute name used in the document path is not defined; attribute name: ${token.text}`,
        );
        return token.text;
      }
      return name;
    }
    if (token.type !== 'identifier' || this.isKeyword(token)) this.syntaxError();
    this.advance();
    if (isReservedWord(token.text)) {
      this.report('reserved', `Attribute name is a reserved keyword; reserved keyword: ${token.text}`);
    }
    return token.text;
  }

  /** Consumes a `:value` token and returns its substitution (null as a stand-in when undefined). */
  protected parseValue(): { value: AttributeValue; token: Token } {
    const token = this.peek();
    if (token.type !== 'value') this.syntaxError();
    this.advance();
    const value = this.scope.value(token.text);
    if (value === undefined) {
      this.report(
        'value',
        `An expression attribute value used in expression is not defined; attribute value: ${token.text}`,
      );
      return { value: null, token };
    }
    return { value, token };
  }
}
