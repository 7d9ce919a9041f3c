/**
 * UpdateExpression syntax: clauses SET, REMOVE, ADD and DELETE (keywords in any case), in any order,
 * each at most once, each a comma-separated list of actions.
 *
 *   set-action    ::= path '=' value
 *   value         ::= operand | operand '+' operand | operand '-' operand | '(' value ')'
 *   operand       ::= path | :value | if_not_exists(path, operand) | list_append(operand, operand) | '(' operand ')'
 *   remove-action ::= path
 *   add-action    ::= path :value          (a number or a set)
 *   delete-action ::= path :value          (a set)
 *
 * Semantic checks, reported in DynamoDB's precedence: reserved words, unknown or misused functions, a
 * repeated clause, undefined placeholders, overlapping or conflicting target paths, literal operand
 * types, function arities.
 */
import type { ExpressionKind, Substitutions } from './parser.js';
import { ExpressionParser } from './parser.js';
import type { DocumentPath } from './paths.js';
import { clashMessage, pathClash } from './paths.js';
import type { Token } from './tokens.js';
import type { AddAction, DeleteAction, SetAction, UpdateAst, UpdateOperand, UpdateValue } from './update.js';
import type { AttributeType, SetValue } from './values.js';
import { typeOf } from './values.js';
import { isDynamoNumber } from './numbers.js';

type Clause = 'SET' | 'REMOVE' | 'ADD' | 'DELETE';
const clauses = new Set<string>(['SET', 'REMOVE', 'ADD', 'DELETE']);
const conditionFunctions = new Set([
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
]);
const longTypeNames: Readonly<Record<string, string>> = {
  S: 'STRING',
  N: 'NUMBER',
  B: 'BINARY',
  NULL: 'NULL',
  BOOL: 'BOOLEAN',
  L: 'LIST',
  M: 'MAP',
};

const priorities = [
  'reserved',
  'unknownFunction',
  'misusedFunction',
  'section',
  'name',
  'value',
  'pathDepth',
  'overlap',
  'conflict',
  'operand',
  'operandCount',
  'function',
];

interface Typed {
  readonly operand: UpdateOperand;
  /** The type known before evaluation (literals and list_append), if any. */
  readonly type: AttributeType | undefined;
  readonly call: string | undefined;
}

const missing: UpdateOperand = { kind: 'value', value: null, placeholder: '?' };

export class UpdateParser extends ExpressionParser {
  private readonly targets: DocumentPath[] = [];

  constructor(source: string, scope: Substitutions, kind: ExpressionKind = 'UpdateExpression') {
    super(kind, source, scope, priorities);
  }

  protected isKeyword(token: Token): boolean {
    return token.type === 'identifier' && clauses.has(token.text.toUpperCase());
  }

  parse(): UpdateAst {
    const seen = new Set<Clause>();
    const set: SetAction[] = [];
    const remove: DocumentPath[] = [];
    const add: AddAction[] = [];
    const del: DeleteAction[] = [];
    do {
      const token = this.peek();
      const clause = token.type === 'identifier' ? token.text.toUpperCase() : '';
      if (!clauses.has(clause)) this.syntaxError();
      this.advance();
      if (seen.has(clause as Clause))
        this.report('section', `The "${clause}" section can only be used once in an update expression;`);
      seen.add(clause as Clause);
      for (;;) {
        if (clause === 'SET') set.push(this.parseSetAction());
        else if (clause === 'REMOVE') remove.push(this.target());
        else if (clause === 'ADD') add.push(this.parseAddAction());
        else del.push(this.parseDeleteAction());
        if (!this.atPunctuation(',')) break;
        this.advance();
      }
    } while (this.peek().type !== 'end');
    this.checkTargets();
    this.finish();
    return { set, remove, add, delete: del };
  }

  private target(): DocumentPath {
    const { path } = this.parsePath();
    this.targets.push(path);
    return path;
  }

  private checkTargets(): void {
    for (let i = 1; i < this.targets.length; i++) {
      for (let j = 0; j < i; j++) {
        const one = this.targets[j] as DocumentPath;
        const two = this.targets[i] as DocumentPath;
        const clash = pathClash(one, two);
        if (clash !== undefined) this.report(clash, clashMessage(clash, one, two));
      }
    }
  }

  private parseSetAction(): SetAction {
    const path = this.target();
    this.expectPunctuation('=');
    return { path, value: this.parseSetValue() };
  }

  private parseSetValue(): UpdateValue {
    let left: Typed;
    if (this.atPunctuation('(')) {
      this.advance();
      this.enterNesting();
      const inner = this.parseSetValue();
      this.expectPunctuation(')');
      this.leaveNesting();
      if (inner.kind === 'plus' || inner.kind === 'minus') return inner;
      left = { operand: inner, type: undefined, call: undefined };
    } else {
      left = this.parseOperand();
    }
    if (!this.atPunctuation('+') && !this.atPunctuation('-')) return left.operand;
    const operator = this.advance().text;
    this.countOperator();
    const right = this.parseOperand();
    for (const side of [left, right]) {
      if (side.type !== undefined && side.type !== 'N') this.reportOperandType(operator, side.type);
    }
    return { kind: operator === '+' ? 'plus' : 'minus', left: left.operand, right: right.operand };
  }

  private parseOperand(): Typed {
    const token = this.peek();
    if (this.atPunctuation('(')) {
      this.advance();
      this.enterNesting();
      const inner = this.parseOperand();
      this.expectPunctuation(')');
      this.leaveNesting();
      return inner;
    }
    if (token.type === 'value') {
      const { value } = this.parseValue();
      return {
        operand: { kind: 'value', value, placeholder: token.text },
        type: typeOf(value),
        call: undefined,
      };
    }
    if (token.type === 'identifier' && !this.isKeyword(token) && this.atPunctuation('(', 1))
      return this.parseCall();
    if (!this.atPathStart()) this.syntaxError();
    return { operand: { kind: 'path', path: this.parsePath().path }, type: undefined, call: undefined };
  }

  private parseCall(): Typed {
    const name = this.advance().text;
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
    if (name !== 'if_not_exists' && name !== 'list_append') {
      if (conditionFunctions.has(name)) this.reportMisused(name);
      else this.report('unknownFunction', `Invalid function name; function: ${name}`);
      return { operand: missing, type: undefined, call: name };
    }
    if (args.length !== 2) {
      this.report(
        'operandCount',
        `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
      );
      return { operand: missing, type: undefined, call: name };
    }
    const [first, second] = args as [Typed, Typed];
    if (name === 'if_not_exists') {
      if (first.operand.kind !== 'path') {
        this.report(
          'function',
          'Operator or function requires a document path; operator or function: if_not_exists',
        );
        return { operand: missing, type: undefined, call: name };
      }
      return {
        operand: { kind: 'if_not_exists', path: first.operand.path, fallback: second.operand },
        type: second.type,
        call: name,
      };
    }
    for (const argument of args) {
      if (argument.call === 'list_append') this.reportMisused('list_append');
      if (argument.type !== undefined && argument.type !== 'L')
        this.reportOperandType('list_append', argument.type);
    }
    return {
      operand: { kind: 'list_append', first: first.operand, second: second.operand },
      type: 'L',
      call: name,
    };
  }

  private reportMisused(name: string): void {
    this.report(
      'misusedFunction',
      `The function is not allowed to be used this way in an expression; function: ${name}`,
    );
  }

  private reportOperandType(operator: string, type: string): void {
    this.report(
      'function',
      `Incorrect operand type for operator or function; operator or function: ${operator}, operand type: ${type}`,
    );
  }

  private reportClauseOperand(clause: 'ADD' | 'DELETE', type: AttributeType | undefined): void {
    const name = type === undefined ? 'UNKNOWN' : (longTypeNames[type] ?? type);
    this.report(
      'operand',
      `Incorrect operand type for operator or function; operator: ${clause}, operand type: ${name}`,
    );
  }

  private parseAddAction(): AddAction {
    const path = this.target();
    const { value } = this.parseValue();
    const type = typeOf(value);
    if (isDynamoNumber(value)) return { path, value };
    if (type === 'SS' || type === 'NS' || type === 'BS') return { path, value: value as SetValue };
    this.reportClauseOperand('ADD', type);
    return { path, value: 0 };
  }

  private parseDeleteAction(): DeleteAction {
    const path = this.target();
    const { value } = this.parseValue();
    const type = typeOf(value);
    if (type === 'SS' || type === 'NS' || type === 'BS') return { path, value: value as SetValue };
    this.reportClauseOperand('DELETE', type);
    return { path, value: new Set<string>(['?']) };
  }
}

export function parseUpdate(expression: string, scope: Substitutions): UpdateAst {
  return new UpdateParser(expression, scope).parse();
}
