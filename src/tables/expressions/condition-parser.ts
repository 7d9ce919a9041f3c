/**
 * Recursive descent over condition syntax, with DynamoDB's precedence (Developer Guide, "Precedence in
 * conditions"), from tightest to loosest: comparators, IN, BETWEEN, functions, parentheses, NOT, AND,
 * OR. Operands may be parenthesised, as in `(size(a)) > :n`; a parenthesised group is therefore parsed
 * as either a condition or an operand, and an operand must then be followed by a comparator, so the
 * grammar never backtracks and stays linear in the input.
 *
 * The parser also performs DynamoDB's semantic checks on literals: function names and arities,
 * operand types of literal values, `contains(a, a)`, BETWEEN bounds, redundant parentheses.
 */
import type { Comparator, Condition, Operand } from './condition.js';
import type { ExpressionKind, Substitutions } from './parser.js';
import { ExpressionParser } from './parser.js';
import type { PathElement } from './paths.js';
import { formatPath } from './paths.js';
import type { Token } from './tokens.js';
import type { AttributeType, AttributeValue } from './values.js';
import { attributeTypes, compareOrdered, describeValue, typeOf } from './values.js';

type Term =
  | { readonly kind: 'path'; readonly path: PathElement[]; readonly token: Token }
  | { readonly kind: 'value'; readonly value: AttributeValue; readonly token: Token }
  | { readonly kind: 'call'; readonly name: string; readonly args: Term[]; readonly token: Token };

type Parsed =
  | { readonly kind: 'condition'; readonly condition: Condition }
  | { readonly kind: 'term'; readonly term: Term };

const keywords = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN']);
const comparators = new Set<string>(['=', '<>', '<', '<=', '>', '>=']);
const booleanFunctions: Readonly<Record<string, number>> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
};
const updateFunctions = new Set(['if_not_exists', 'list_append']);
const orderedTypes = new Set<AttributeType | undefined>(['S', 'N', 'B']);
/** DynamoDB documents at most 100 values in an IN list. */
export const maxInCandidates = 100;

/** Never evaluated: stands in for a node whose problem was reported and will be thrown by finish(). */
const placeholder: Condition = { kind: 'attribute_exists', path: ['?'] };

const priorities = [
  'parens',
  'unknownFunction',
  'misusedFunction',
  'reserved',
  'name',
  'value',
  'pathDepth',
  'operandCount',
  'distinct',
  'function',
];

const isOwnKey = (record: object, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

export class ConditionParser extends ExpressionParser {
  private closers: Map<number, number> | undefined;

  constructor(kind: ExpressionKind, source: string, scope: Substitutions) {
    super(kind, source, scope, priorities);
  }

  protected isKeyword(token: Token): boolean {
    return token.type === 'identifier' && keywords.has(token.text.toUpperCase());
  }

  parse(): Condition {
    const parsed = this.parseOr();
    if (parsed.kind === 'term') this.syntaxError();
    this.finish();
    return parsed.condition;
  }

  private parseOr(): Parsed {
    let left = this.parseAnd();
    while (this.atWord('OR')) {
      const first = this.requireCondition(left);
      this.advance();
      this.countOperator();
      const right = this.requireCondition(this.parseAnd());
      left = { kind: 'condition', condition: { kind: 'or', left: first, right } };
    }
    return left;
  }

  private parseAnd(): Parsed {
    let left = this.parseNot();
    while (this.atWord('AND')) {
      const first = this.requireCondition(left);
      this.advance();
      this.countOperator();
      const right = this.requireCondition(this.parseNot());
      left = { kind: 'condition', condition: { kind: 'and', left: first, right } };
    }
    return left;
  }

  private parseNot(): Parsed {
    if (!this.atWord('NOT')) return this.parsePrimary();
    this.advance();
    this.countOperator();
    this.enterNesting();
    const inner = this.requireCondition(this.parseNot());
    this.leaveNesting();
    return { kind: 'condition', condition: { kind: 'not', condition: inner } };
  }

  private requireCondition(parsed: Parsed): Condition {
    if (parsed.kind === 'term') this.syntaxError();
    return parsed.condition;
  }

  private parsePrimary(): Parsed {
    if (!this.atPunctuation('(')) return this.continueComparison(this.parseTerm());
    this.openGroup();
    const inner = this.parseOr();
    this.closeGroup();
    return inner.kind === 'condition' ? inner : this.continueComparison(inner.term);
  }

  /** After an operand: a comparator, BETWEEN or IN; or a boolean function standing alone. */
  private continueComparison(term: Term): Parsed {
    const token = this.peek();
    if (token.type === 'punctuation' && comparators.has(token.text)) {
      this.advance();
      this.countOperator();
      const right = this.parseOperand();
      return this.condition(this.comparison(token.text as Comparator, term, right));
    }
    if (this.atWord('BETWEEN')) {
      this.advance();
      this.countOperator();
      const lower = this.parseOperand();
      if (!this.atWord('AND')) this.syntaxError();
      this.advance();
      const upper = this.parseOperand();
      return this.condition(this.between(term, lower, upper));
    }
    if (this.atWord('IN')) {
      this.advance();
      this.countOperator();
      this.expectPunctuation('(');
      const candidates = [this.parseOperand()];
      while (this.atPunctuation(',')) {
        this.advance();
        candidates.push(this.parseOperand());
      }
      this.expectPunctuation(')');
      return this.condition(this.inList(term, candidates));
    }
    if (term.kind === 'call' && isOwnKey(booleanFunctions, term.name))
      return this.condition(this.functionCondition(term));
    if (this.atPunctuation(')')) return { kind: 'term', term };
    if (term.kind === 'call') return this.condition(this.functionCondition(term));
    this.syntaxError();
  }

  private condition(condition: Condition): Parsed {
    return { kind: 'condition', condition };
  }

  /** An operand, optionally in parentheses. */
  private parseOperand(): Term {
    if (!this.atPunctuation('(')) return this.parseTerm();
    this.openGroup();
    const term = this.parseOperand();
    this.closeGroup();
    return term;
  }

  /** A path, a `:value`, or a function call whose arguments are operands. */
  private parseTerm(): Term {
    const token = this.peek();
    if (token.type === 'value') {
      const { value } = this.parseValue();
      return { kind: 'value', value, token };
    }
    if (token.type === 'identifier' && !this.isKeyword(token) && this.atPunctuation('(', 1)) {
      this.advance();
      this.advance();
      this.countOperator();
      this.enterNesting();
      const args = [this.parseOperand()];
      while (this.atPunctuation(',')) {
        this.advance();
        args.push(this.parseOperand());
      }
      this.expectPunctuation(')');
      this.leaveNesting();
      return { kind: 'call', name: token.text, args, token };
    }
    if (!this.atPathStart()) this.syntaxError();
    const { path } = this.parsePath();
    return { kind: 'path', path, token };
  }

  private openGroup(): void {
    const open = this.position;
    const closers = this.matchParentheses();
    if (this.atPunctuation('(', 1) && closers.get(open + 1) === (closers.get(open) ?? -1) - 1) {
      this.report('parens', 'The expression has redundant parentheses;');
    }
    this.advance();
    this.enterNesting();
  }

  private closeGroup(): void {
    this.expectPunctuation(')');
    this.leaveNesting();
  }

  private matchParentheses(): Map<number, number> {
    if (this.closers !== undefined) return this.closers;
    const closers = new Map<number, number>();
    const open: number[] = [];
    this.tokens.forEach((token, index) => {
      if (token.type !== 'punctuation') return;
      if (token.text === '(') open.push(index);
      else if (token.text === ')') {
        const start = open.pop();
        if (start !== undefined) closers.set(start, index);
      }
    });
    this.closers = closers;
    return closers;
  }

  // --- semantic checks ------------------------------------------------------------------------

  private operand(term: Term): Operand {
    if (term.kind === 'path') return { kind: 'path', path: term.path };
    if (term.kind === 'value') return { kind: 'value', value: term.value, placeholder: term.token.text };
    if (term.name !== 'size') {
      this.reportMisused(term.name);
      return { kind: 'value', value: null, placeholder: term.name };
    }
    if (!this.checkArity(term, 1)) return { kind: 'value', value: null, placeholder: term.name };
    const argument = term.args[0] as Term;
    const type = this.literalType(argument);
    if (type === 'N' || type === 'BOOL' || type === 'NULL') this.reportOperandType('size', type);
    return { kind: 'size', operand: this.operand(argument) };
  }

  private reportMisused(name: string): void {
    if (isOwnKey(booleanFunctions, name) || updateFunctions.has(name) || name === 'size') {
      this.report(
        'misusedFunction',
        `The function is not allowed to be used this way in an expression; function: ${name}`,
      );
    } else {
      this.report('unknownFunction', `Invalid function name; function: ${name}`);
    }
  }

  private checkArity(call: Term & { kind: 'call' }, expected: number): boolean {
    if (call.args.length === expected) return true;
    this.report(
      'operandCount',
      `Incorrect number of operands for operator or function; operator or function: ${call.name}, number of operands: ${call.args.length}`,
    );
    return false;
  }

  /** The type a term is known to have before evaluation: a literal's, or N for size(). */
  private literalType(term: Term): AttributeType | undefined {
    if (term.kind === 'value') return typeOf(term.value);
    if (term.kind === 'call' && term.name === 'size') return 'N';
    return undefined;
  }

  private reportOperandType(operator: string, type: string): void {
    this.report(
      'function',
      `Incorrect operand type for operator or function; operator or function: ${operator}, operand type: ${type}`,
    );
  }

  private checkDistinct(operator: string, first: Term, second: Term): void {
    if (first.kind !== 'path' || second.kind !== 'path' || first.path.length !== second.path.length) return;
    if (first.path.every((element, i) => element === second.path[i])) {
      this.report(
        'distinct',
        `The first operand must be distinct from the remaining operands for this operator or function; operator: ${operator}, first operand: ${formatPath(first.path)}`,
      );
    }
  }

  private checkOrdered(operator: string, terms: readonly Term[]): void {
    for (const term of terms) {
      const type = this.literalType(term);
      if (type !== undefined && !orderedTypes.has(type)) this.reportOperandType(operator, type);
    }
  }

  private comparison(comparator: Comparator, left: Term, right: Term): Condition {
    this.checkDistinct(comparator, left, right);
    if (comparator !== '=' && comparator !== '<>') this.checkOrdered(comparator, [left, right]);
    return { kind: 'comparison', comparator, left: this.operand(left), right: this.operand(right) };
  }

  private between(term: Term, lower: Term, upper: Term): Condition {
    this.checkOrdered('BETWEEN', [term, lower, upper]);
    if (lower.kind === 'value' && upper.kind === 'value') {
      const bounds = `lower bound operand: AttributeValue: ${describeValue(lower.value)}, upper bound operand: AttributeValue: ${describeValue(upper.value)}`;
      if (typeOf(lower.value) !== typeOf(upper.value)) {
        this.report(
          'function',
          `The BETWEEN operator requires same data type for lower and upper bounds; ${bounds}`,
        );
      } else if ((compareOrdered(lower.value, upper.value) ?? 0) > 0) {
        this.report(
          'function',
          `The BETWEEN operator requires upper bound to be greater than or equal to lower bound; ${bounds}`,
        );
      }
    }
    return {
      kind: 'between',
      operand: this.operand(term),
      lower: this.operand(lower),
      upper: this.operand(upper),
    };
  }

  private inList(term: Term, candidates: readonly Term[]): Condition {
    if (candidates.length > maxInCandidates) {
      this.report(
        'function',
        `The IN operator is provided with too many operands; number of operands: ${candidates.length}`,
      );
    }
    return { kind: 'in', operand: this.operand(term), candidates: candidates.map((c) => this.operand(c)) };
  }

  private functionCondition(call: Term & { kind: 'call' }): Condition {
    const arity = booleanFunctions[call.name];
    if (arity === undefined || !isOwnKey(booleanFunctions, call.name)) {
      this.reportMisused(call.name);
      return placeholder;
    }
    if (!this.checkArity(call, arity)) return placeholder;
    const [first, second] = call.args as [Term, Term];
    switch (call.name) {
      case 'attribute_exists':
      case 'attribute_not_exists':
        if (first.kind !== 'path') {
          this.report(
            'function',
            `Operator or function requires a document path; operator or function: ${call.name}`,
          );
          return placeholder;
        }
        return { kind: call.name, path: first.path };
      case 'attribute_type':
        return { kind: 'attribute_type', operand: this.operand(first), type: this.typeName(second) };
      case 'begins_with':
        for (const term of call.args) {
          const type = this.literalType(term);
          if (type !== undefined && type !== 'S' && type !== 'B') this.reportOperandType('begins_with', type);
        }
        return { kind: 'begins_with', operand: this.operand(first), prefix: this.operand(second) };
      default:
        this.checkDistinct('contains', first, second);
        return { kind: 'contains', operand: this.operand(first), element: this.operand(second) };
    }
  }

  private typeName(term: Term): AttributeType {
    if (term.kind !== 'value' || typeof term.value !== 'string') {
      this.reportOperandType('attribute_type', this.literalType(term) ?? `{${attributeTypes.join(',')}}`);
      return 'NULL';
    }
    const name = term.value;
    if (!(attributeTypes as readonly string[]).includes(name)) {
      this.report(
        'function',
        `Invalid attribute type name found; type: ${name}, valid types: {${attributeTypes.join(',')}}`,
      );
      return 'NULL';
    }
    return name as AttributeType;
  }
}

export function parseCondition(kind: ExpressionKind, expression: string, scope: Substitutions): Condition {
  return new ConditionParser(kind, expression, scope).parse();
}
