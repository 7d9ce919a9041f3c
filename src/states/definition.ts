/**
 * Amazon States Language definitions: parsing and validation. `parseDefinition` either returns a typed
 * definition or throws `InvalidDefinition` listing every problem with its location (`/States/A/Next`),
 * the way ValidateStateMachineDefinition reports diagnostics (code, message, location).
 */
import { SluiceError } from '../model/errors.js';
import { isIntrinsic, parseIntrinsic } from './intrinsics.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { isValidPath } from './jsonpath.js';
import { checkJsonataState } from './definition-jsonata.js';

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
  Assign?: Json;
}

interface Common {
  Type: string;
  Comment?: string;
  Next?: string;
  End?: boolean;
  InputPath?: string | null;
  OutputPath?: string | null;
  /** Workflow variables to set when the state ends (JSONPath: `name.$` fields read paths). */
  Assign?: Json;
}

export interface PassState extends Common { Type: 'Pass'; Result?: Json; ResultPath?: string | null; Parameters?: Json }
export interface TaskState extends Common {
  Type: 'Task';
  Resource: string;
  Parameters?: Json;
  ResultSelector?: Json;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  HeartbeatSecondsPath?: string;
}
export interface ChoiceState extends Common { Type: 'Choice'; Choices: JsonObject[]; Default?: string }
export interface WaitState extends Common { Type: 'Wait'; Seconds?: number; Timestamp?: string; SecondsPath?: string; TimestampPath?: string }
export interface SucceedState extends Common { Type: 'Succeed' }
export interface FailState extends Common { Type: 'Fail'; Error?: string; Cause?: string; ErrorPath?: string; CausePath?: string }
export interface ParallelState extends Common {
  Type: 'Parallel';
  Branches: Machine[];
  Parameters?: Json;
  ResultSelector?: Json;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}
export interface MapState extends Common {
  Type: 'Map';
  ItemProcessor: Machine;
  ItemsPath?: string;
  ItemSelector?: Json;
  MaxConcurrency?: number;
  /** A reference path to the iteration limit in the input after InputPath (as ItemsPath reads it). */
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  ResultSelector?: Json;
  ResultPath?: string | null;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export type State = PassState | TaskState | ChoiceState | WaitState | SucceedState | FailState | ParallelState | MapState;

export interface Machine {
  StartAt: string;
  States: Record<string, State>;
  Comment?: string;
}

export interface Definition extends Machine {
  Version?: string;
  TimeoutSeconds?: number;
  QueryLanguage?: QueryLanguage;
}

export type QueryLanguage = 'JSONPath' | 'JSONata';

export interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  code: string;
  message: string;
  location: string;
}

/** The most a definition may hold, in UTF-8 bytes (AWS's quota). */
export const MAX_DEFINITION_BYTES = 1_048_576;

const commonFields = ['Type', 'Comment', 'Next', 'End', 'InputPath', 'OutputPath', 'QueryLanguage'];
const allowedFields: Record<string, string[]> = {
  Pass: [...commonFields, 'Result', 'ResultPath', 'Parameters', 'Assign'],
  Task: [...commonFields, 'Assign', 'Resource', 'Parameters', 'ResultSelector', 'ResultPath', 'Retry', 'Catch', 'TimeoutSeconds', 'TimeoutSecondsPath', 'HeartbeatSeconds', 'HeartbeatSecondsPath', 'Credentials'],
  Choice: ['Type', 'Comment', 'InputPath', 'OutputPath', 'Choices', 'Default', 'QueryLanguage', 'Assign'],
  Wait: [...commonFields, 'Assign', 'Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'],
  Succeed: ['Type', 'Comment', 'InputPath', 'OutputPath', 'QueryLanguage'],
  Fail: ['Type', 'Comment', 'Error', 'Cause', 'ErrorPath', 'CausePath', 'QueryLanguage'],
  Parallel: [...commonFields, 'Assign', 'Branches', 'Parameters', 'ResultSelector', 'ResultPath', 'Retry', 'Catch'],
  Map: [...commonFields, 'Assign', 'ItemProcessor', 'Iterator', 'ItemsPath', 'ItemSelector', 'Parameters', 'MaxConcurrency', 'MaxConcurrencyPath', 'ToleratedFailurePercentage', 'ToleratedFailureCount', 'ResultSelector', 'ResultPath', 'Retry', 'Catch', 'Label'],
};

const comparators = [
  'StringEquals', 'StringLessThan', 'StringGreaterThan', 'StringLessThanEquals', 'StringGreaterThanEquals', 'StringMatches',
  'NumericEquals', 'NumericLessThan', 'NumericGreaterThan', 'NumericLessThanEquals', 'NumericGreaterThanEquals',
  'BooleanEquals',
  'TimestampEquals', 'TimestampLessThan', 'TimestampGreaterThan', 'TimestampLessThanEquals', 'TimestampGreaterThanEquals',
  'IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp',
];
export const choiceComparators: readonly string[] = [
  ...comparators,
  ...comparators.filter((c) => !c.startsWith('Is') && c !== 'StringMatches').map((c) => `${c}Path`),
];

export class Checker {
  readonly diagnostics: Diagnostic[] = [];

  error(code: string, message: string, location: string): void {
    this.diagnostics.push({ severity: 'ERROR', code, message, location });
  }

  machine(m: unknown, at: string, top: boolean, inherited: QueryLanguage = 'JSONPath'): void {
    if (!isObject(m)) return this.error('SCHEMA_VALIDATION_FAILED', 'Expected an object', at || '/');
    const allowed = top ? ['StartAt', 'States', 'Comment', 'Version', 'TimeoutSeconds', 'QueryLanguage'] : ['StartAt', 'States', 'Comment', 'ProcessorConfig', 'QueryLanguage'];
    for (const key of Object.keys(m))
      if (!allowed.includes(key)) this.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported by Step Functions`, `${at}/${key}`);
    if (m.QueryLanguage !== undefined && m.QueryLanguage !== 'JSONPath' && m.QueryLanguage !== 'JSONata')
      this.error('SCHEMA_VALIDATION_FAILED', 'QueryLanguage must be JSONPath or JSONata', `${at}/QueryLanguage`);
    const language: QueryLanguage = m.QueryLanguage === 'JSONata' || m.QueryLanguage === 'JSONPath' ? m.QueryLanguage : inherited;
    if (top && m.TimeoutSeconds !== undefined && !positiveInt(m.TimeoutSeconds))
      this.error('SCHEMA_VALIDATION_FAILED', 'TimeoutSeconds must be a positive integer', `${at}/TimeoutSeconds`);
    if (top && m.Version !== undefined && typeof m.Version !== 'string')
      this.error('SCHEMA_VALIDATION_FAILED', 'Version must be a string', `${at}/Version`);
    const states = m.States;
    if (!isObject(states) || Object.keys(states).length === 0)
      return this.error('SCHEMA_VALIDATION_FAILED', 'States must be an object with at least one state', `${at}/States`);
    if (typeof m.StartAt !== 'string') this.error('SCHEMA_VALIDATION_FAILED', 'StartAt must be a string', `${at}/StartAt`);
    else if (!Object.hasOwn(states, m.StartAt))
      this.error('MISSING_TRANSITION_TARGET', `Missing 'Next' target: ${m.StartAt}`, `${at}/StartAt`);
    const names = Object.keys(states);
    for (const name of names) {
      if (name.length === 0 || name.length > 80) this.error('SCHEMA_VALIDATION_FAILED', 'State names must be 1 to 80 characters', `${at}/States/${name}`);
      this.state(states[name], names, `${at}/States/${name}`, language);
    }
    if (typeof m.StartAt === 'string' && Object.hasOwn(states, m.StartAt)) this.reachability(states, m.StartAt, at);
  }

  reachability(states: JsonObject, start: string, at: string): void {
    const seen = new Set<string>([start]);
    const queue = [start];
    while (queue.length > 0) {
      const state = states[queue.pop() as string];
      if (!isObject(state)) continue;
      const targets: unknown[] = [state.Next, state.Default];
      if (Array.isArray(state.Choices)) for (const c of state.Choices) if (isObject(c)) targets.push(c.Next);
      if (Array.isArray(state.Catch)) for (const c of state.Catch) if (isObject(c)) targets.push(c.Next);
      for (const t of targets)
        if (typeof t === 'string' && Object.hasOwn(states, t) && !seen.has(t)) {
          seen.add(t);
          queue.push(t);
        }
    }
    for (const name of Object.keys(states))
      if (!seen.has(name)) this.error('MISSING_TRANSITION_TARGET', `State "${name}" is not reachable`, `${at}/States/${name}`);
  }

  target(value: unknown, names: string[], at: string): void {
    if (typeof value !== 'string') this.error('SCHEMA_VALIDATION_FAILED', 'Expected the name of a state', at);
    else if (!names.includes(value)) this.error('MISSING_TRANSITION_TARGET', `Missing 'Next' target: ${value}`, at);
  }

  private state(s: unknown, names: string[], at: string, inherited: QueryLanguage): void {
    if (!isObject(s)) return this.error('SCHEMA_VALIDATION_FAILED', 'A state must be an object', at);
    const type = s.Type;
    if (typeof type !== 'string' || !Object.hasOwn(allowedFields, type))
      return this.error('SCHEMA_VALIDATION_FAILED', `Type must be one of ${Object.keys(allowedFields).join(', ')}`, `${at}/Type`);
    if (s.QueryLanguage !== undefined && s.QueryLanguage !== 'JSONPath' && s.QueryLanguage !== 'JSONata')
      return this.error('SCHEMA_VALIDATION_FAILED', 'QueryLanguage must be JSONPath or JSONata', `${at}/QueryLanguage`);
    const language: QueryLanguage = (s.QueryLanguage as QueryLanguage | undefined) ?? inherited;
    if (language === 'JSONata') return checkJsonataState(this, s, type, names, at);
    for (const key of Object.keys(s))
      if (!(allowedFields[type] as string[]).includes(key))
        this.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported by Step Functions`, `${at}/${key}`);
    const flows = ['Pass', 'Task', 'Wait', 'Parallel', 'Map'].includes(type);
    if (flows) {
      if (s.Next !== undefined && s.End !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'A state may have Next or End, not both', at);
      else if (s.Next !== undefined) this.target(s.Next, names, `${at}/Next`);
      else if (s.End !== true) this.error('MISSING_TRANSITION_TARGET', 'A state must have Next or "End": true', at);
    }
    for (const field of ['InputPath', 'OutputPath'] as const) this.path(s[field], `${at}/${field}`, false, true);
    if ('ResultPath' in s) this.path(s.ResultPath, `${at}/ResultPath`, true, true, false);
    for (const field of ['Parameters', 'ResultSelector', 'ItemSelector'] as const) if (s[field] !== undefined) this.template(s[field], `${at}/${field}`);
    if (s.Assign !== undefined) this.assign(s.Assign, `${at}/Assign`);
    if (Array.isArray(s.Retry) || s.Retry !== undefined) this.retriers(s.Retry, `${at}/Retry`);
    if (s.Catch !== undefined) this.catchers(s.Catch, names, `${at}/Catch`);
    switch (type) {
      case 'Task':
        return this.task(s, at);
      case 'Choice':
        return this.choice(s, names, at);
      case 'Wait': {
        const given = ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'].filter((f) => s[f] !== undefined);
        if (given.length !== 1) this.error('SCHEMA_VALIDATION_FAILED', 'A Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath', at);
        if (s.Seconds !== undefined && !(Number.isInteger(s.Seconds) && (s.Seconds as number) >= 0))
          this.error('SCHEMA_VALIDATION_FAILED', 'Seconds must be a non-negative integer', `${at}/Seconds`);
        if (s.Timestamp !== undefined && (typeof s.Timestamp !== 'string' || Number.isNaN(Date.parse(s.Timestamp))))
          this.error('SCHEMA_VALIDATION_FAILED', 'Timestamp must be an ISO-8601 timestamp', `${at}/Timestamp`);
        this.path(s.SecondsPath, `${at}/SecondsPath`, true, false);
        this.path(s.TimestampPath, `${at}/TimestampPath`, true, false);
        return;
      }
      case 'Fail':
        if (s.Error !== undefined && s.ErrorPath !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'Error and ErrorPath are exclusive', at);
        if (s.Cause !== undefined && s.CausePath !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'Cause and CausePath are exclusive', at);
        for (const f of ['ErrorPath', 'CausePath'] as const)
          if (s[f] !== undefined && !(typeof s[f] === 'string' && (isIntrinsic(s[f]) || isValidPath(s[f], { reference: true }))))
            this.error('SCHEMA_VALIDATION_FAILED', `${f} must be a reference path or an intrinsic function`, `${at}/${f}`);
        return;
      case 'Parallel':
        if (!Array.isArray(s.Branches) || s.Branches.length === 0)
          return this.error('SCHEMA_VALIDATION_FAILED', 'Branches must be a non-empty array', `${at}/Branches`);
        s.Branches.forEach((b, i) => this.machine(b, `${at}/Branches[${i}]`, false, 'JSONPath'));
        return;
      case 'Map': {
        const processor = s.ItemProcessor ?? s.Iterator;
        if (processor === undefined) this.error('SCHEMA_VALIDATION_FAILED', 'A Map state needs ItemProcessor', `${at}/ItemProcessor`);
        else this.machine(processor, `${at}/${s.ItemProcessor !== undefined ? 'ItemProcessor' : 'Iterator'}`, false, 'JSONPath');
        if (isObject(processor) && isObject(processor.ProcessorConfig) && processor.ProcessorConfig.Mode === 'DISTRIBUTED')
          this.error('SCHEMA_VALIDATION_FAILED', 'Distributed Map is not supported by Sluice (INLINE only)', `${at}/ItemProcessor/ProcessorConfig/Mode`);
        if (s.ItemSelector !== undefined && s.Parameters !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'ItemSelector and Parameters are exclusive', at);
        this.path(s.ItemsPath, `${at}/ItemsPath`, true, false);
        if (s.MaxConcurrency !== undefined && !(Number.isInteger(s.MaxConcurrency) && (s.MaxConcurrency as number) >= 0))
          this.error('SCHEMA_VALIDATION_FAILED', 'MaxConcurrency must be a non-negative integer', `${at}/MaxConcurrency`);
        if (s.MaxConcurrency !== undefined && s.MaxConcurrencyPath !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'MaxConcurrency and MaxConcurrencyPath are exclusive', at);
        this.path(s.MaxConcurrencyPath, `${at}/MaxConcurrencyPath`, true, false);
        if (s.ToleratedFailurePercentage !== undefined && !(typeof s.ToleratedFailurePercentage === 'number' && s.ToleratedFailurePercentage >= 0 && s.ToleratedFailurePercentage <= 100))
          this.error('SCHEMA_VALIDATION_FAILED', 'ToleratedFailurePercentage must be from 0 to 100', `${at}/ToleratedFailurePercentage`);
        if (s.ToleratedFailureCount !== undefined && !(Number.isInteger(s.ToleratedFailureCount) && (s.ToleratedFailureCount as number) >= 0))
          this.error('SCHEMA_VALIDATION_FAILED', 'ToleratedFailureCount must be a non-negative integer', `${at}/ToleratedFailureCount`);
        return;
      }
      default:
        return;
    }
  }

  private task(s: JsonObject, at: string): void {
    if (typeof s.Resource !== 'string' || !s.Resource.startsWith('arn:'))
      this.error('SCHEMA_VALIDATION_FAILED', 'Resource must be an ARN', `${at}/Resource`);
    if (s.TimeoutSeconds !== undefined && s.TimeoutSecondsPath !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'TimeoutSeconds and TimeoutSecondsPath are exclusive', at);
    if (s.HeartbeatSeconds !== undefined && s.HeartbeatSecondsPath !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'HeartbeatSeconds and HeartbeatSecondsPath are exclusive', at);
    for (const f of ['TimeoutSeconds', 'HeartbeatSeconds'] as const)
      if (s[f] !== undefined && !(positiveInt(s[f]) && (s[f] as number) <= 99_999_999))
        this.error('SCHEMA_VALIDATION_FAILED', `${f} must be an integer from 1 to 99999999`, `${at}/${f}`);
    if (positiveInt(s.TimeoutSeconds) && positiveInt(s.HeartbeatSeconds) && (s.HeartbeatSeconds as number) >= (s.TimeoutSeconds as number))
      this.error('SCHEMA_VALIDATION_FAILED', 'HeartbeatSeconds must be smaller than TimeoutSeconds', `${at}/HeartbeatSeconds`);
    this.path(s.TimeoutSecondsPath, `${at}/TimeoutSecondsPath`, true, false);
    this.path(s.HeartbeatSecondsPath, `${at}/HeartbeatSecondsPath`, true, false);
  }

  private choice(s: JsonObject, names: string[], at: string): void {
    if (!Array.isArray(s.Choices) || s.Choices.length === 0)
      return this.error('SCHEMA_VALIDATION_FAILED', 'Choices must be a non-empty array', `${at}/Choices`);
    s.Choices.forEach((rule, i) => {
      const where = `${at}/Choices[${i}]`;
      this.rule(rule, where, true);
      if (isObject(rule)) this.target(rule.Next, names, `${where}/Next`);
    });
    if (s.Default !== undefined) this.target(s.Default, names, `${at}/Default`);
  }

  private rule(rule: unknown, at: string, top: boolean): void {
    if (!isObject(rule)) return this.error('SCHEMA_VALIDATION_FAILED', 'A choice rule must be an object', at);
    const extra = top ? ['Next', 'Comment', 'Assign'] : ['Comment'];
    if (top && rule.Assign !== undefined) this.assign(rule.Assign, `${at}/Assign`);
    for (const key of Object.keys(rule))
      if (!['Variable', 'And', 'Or', 'Not', ...choiceComparators, ...extra].includes(key))
        this.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported by Step Functions`, `${at}/${key}`);
    if (top && rule.Next === undefined) this.error('SCHEMA_VALIDATION_FAILED', 'A top-level choice rule needs Next', at);
    if (!top && rule.Next !== undefined) this.error('SCHEMA_VALIDATION_FAILED', 'Only top-level choice rules may have Next', `${at}/Next`);
    if (Array.isArray(rule.And) || Array.isArray(rule.Or)) {
      const list = (rule.And ?? rule.Or) as Json[];
      if (list.length === 0) this.error('SCHEMA_VALIDATION_FAILED', 'And / Or need at least one rule', at);
      list.forEach((r, i) => this.rule(r, `${at}/${rule.And ? 'And' : 'Or'}[${i}]`, false));
      return;
    }
    if (rule.Not !== undefined) return this.rule(rule.Not, `${at}/Not`, false);
    const ops = Object.keys(rule).filter((k) => choiceComparators.includes(k));
    if (ops.length !== 1) return this.error('SCHEMA_VALIDATION_FAILED', 'A choice rule needs exactly one comparison operator', at);
    if (typeof rule.Variable !== 'string' || !isValidPath(rule.Variable))
      this.error('SCHEMA_VALIDATION_FAILED', 'Variable must be a JSONPath', `${at}/Variable`);
    const op = ops[0] as string;
    const value = rule[op];
    if (op.endsWith('Path')) this.path(value, `${at}/${op}`, true, false);
    else if (op.startsWith('Is') || op === 'BooleanEquals') {
      if (typeof value !== 'boolean') this.error('SCHEMA_VALIDATION_FAILED', `${op} takes a boolean`, `${at}/${op}`);
    } else if (op.startsWith('Numeric')) {
      if (typeof value !== 'number') this.error('SCHEMA_VALIDATION_FAILED', `${op} takes a number`, `${at}/${op}`);
    } else if (typeof value !== 'string' || (op.startsWith('Timestamp') && Number.isNaN(Date.parse(value))))
      this.error('SCHEMA_VALIDATION_FAILED', `${op} takes a ${op.startsWith('Timestamp') ? 'timestamp' : 'string'}`, `${at}/${op}`);
  }

  retriers(value: unknown, at: string): void {
    if (!Array.isArray(value)) return this.error('SCHEMA_VALIDATION_FAILED', 'Retry must be an array', at);
    value.forEach((r, i) => {
      const where = `${at}[${i}]`;
      if (!isObject(r)) return this.error('SCHEMA_VALIDATION_FAILED', 'A retrier must be an object', where);
      for (const key of Object.keys(r))
        if (!['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate', 'MaxDelaySeconds', 'JitterStrategy', 'Comment'].includes(key))
          this.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported by Step Functions`, `${where}/${key}`);
      this.errorEquals(r.ErrorEquals, `${where}/ErrorEquals`, i === value.length - 1);
      if (r.IntervalSeconds !== undefined && !(positiveInt(r.IntervalSeconds) && (r.IntervalSeconds as number) <= 99_999_999))
        this.error('SCHEMA_VALIDATION_FAILED', 'IntervalSeconds must be an integer from 1 to 99999999', `${where}/IntervalSeconds`);
      if (r.MaxAttempts !== undefined && !(Number.isInteger(r.MaxAttempts) && (r.MaxAttempts as number) >= 0 && (r.MaxAttempts as number) <= 99_999_999))
        this.error('SCHEMA_VALIDATION_FAILED', 'MaxAttempts must be an integer from 0 to 99999999', `${where}/MaxAttempts`);
      if (r.BackoffRate !== undefined && !(typeof r.BackoffRate === 'number' && r.BackoffRate >= 1))
        this.error('SCHEMA_VALIDATION_FAILED', 'BackoffRate must be a number of at least 1.0', `${where}/BackoffRate`);
      if (r.MaxDelaySeconds !== undefined && !(positiveInt(r.MaxDelaySeconds) && (r.MaxDelaySeconds as number) < 31_622_401))
        this.error('SCHEMA_VALIDATION_FAILED', 'MaxDelaySeconds must be a positive integer below 31622401', `${where}/MaxDelaySeconds`);
      if (r.JitterStrategy !== undefined && r.JitterStrategy !== 'FULL' && r.JitterStrategy !== 'NONE')
        this.error('SCHEMA_VALIDATION_FAILED', 'JitterStrategy must be FULL or NONE', `${where}/JitterStrategy`);
    });
  }

  private catchers(value: unknown, names: string[], at: string): void {
    if (!Array.isArray(value)) return this.error('SCHEMA_VALIDATION_FAILED', 'Catch must be an array', at);
    value.forEach((c, i) => {
      const where = `${at}[${i}]`;
      if (!isObject(c)) return this.error('SCHEMA_VALIDATION_FAILED', 'A catcher must be an object', where);
      for (const key of Object.keys(c))
        if (!['ErrorEquals', 'Next', 'ResultPath', 'Comment', 'Assign'].includes(key))
          this.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported by Step Functions`, `${where}/${key}`);
      this.errorEquals(c.ErrorEquals, `${where}/ErrorEquals`, i === value.length - 1);
      this.target(c.Next, names, `${where}/Next`);
      if ('ResultPath' in c) this.path(c.ResultPath, `${where}/ResultPath`, true, true, false);
      if (c.Assign !== undefined) this.assign(c.Assign, `${where}/Assign`);
    });
  }

  /**
   * A JSONPath state's Assign: an object of variable names (letters, digits and _, not starting with a
   * digit; `states` is reserved), each a static value or, as `name.$`, a path or an intrinsic function.
   */
  private assign(value: unknown, at: string): void {
    if (!isObject(value)) return this.error('SCHEMA_VALIDATION_FAILED', 'Assign must be an object', at);
    for (const key of Object.keys(value)) {
      const name = key.endsWith('.$') ? key.slice(0, -2) : key;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name === 'states')
        this.error('SCHEMA_VALIDATION_FAILED', `'${name}' is not a valid variable name (letters, digits and _, not starting with a digit; 'states' is reserved)`, `${at}/${key}`);
    }
    this.template(value, at);
  }

  errorEquals(value: unknown, at: string, last: boolean): void {
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string'))
      return this.error('SCHEMA_VALIDATION_FAILED', 'ErrorEquals must be a non-empty array of error names', at);
    if (value.includes('States.ALL') && (value.length !== 1 || !last))
      this.error('SCHEMA_VALIDATION_FAILED', 'States.ALL must appear alone, in the last retrier or catcher', at);
  }

  /** `variables`: whether a `$name` path may be given (ResultPath writes into the data, never a variable). */
  private path(value: unknown, at: string, reference: boolean, nullable: boolean, variables = true): void {
    if (value === undefined) return;
    if (value === null && nullable) return;
    if (typeof value !== 'string' || !isValidPath(value, { reference, variables }))
      this.error('SCHEMA_VALIDATION_FAILED', `The value for the field must be a valid ${reference ? 'reference path' : 'JSONPath'}`, at);
  }

  private template(value: unknown, at: string): void {
    if (Array.isArray(value)) return value.forEach((v, i) => this.template(v, `${at}[${i}]`));
    if (!isObject(value)) return;
    for (const [key, v] of Object.entries(value)) {
      if (key.endsWith('.$')) {
        if (typeof v !== 'string') this.error('SCHEMA_VALIDATION_FAILED', `The value for the field '${key}' must be a STRING that contains a JSONPath or an intrinsic function`, `${at}/${key}`);
        else if (isIntrinsic(v)) {
          try {
            parseIntrinsic(v);
          } catch (error) {
            this.error('SCHEMA_VALIDATION_FAILED', `The value for the field '${key}' is not a valid intrinsic function: ${(error as Error).message}`, `${at}/${key}`);
          }
        } else if (!isValidPath(v)) this.error('SCHEMA_VALIDATION_FAILED', `The value for the field '${key}' must be a valid JSONPath`, `${at}/${key}`);
      } else this.template(v, `${at}/${key}`);
    }
  }
}

function positiveInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Every problem of a definition (empty when it is valid). `text` is the JSON text as the API receives it. */
export function validateDefinition(text: string): Diagnostic[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_DEFINITION_BYTES)
    return [{ severity: 'ERROR', code: 'SCHEMA_VALIDATION_FAILED', message: `The definition is larger than ${MAX_DEFINITION_BYTES} bytes`, location: '/' }];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return [{ severity: 'ERROR', code: 'INVALID_JSON_DESCRIPTION', message: (error as Error).message, location: '/' }];
  }
  const checker = new Checker();
  checker.machine(parsed, '', true);
  return checker.diagnostics;
}

/** The typed definition, or InvalidDefinition naming the first problems and where they are. */
export function parseDefinition(text: string): Definition {
  const diagnostics = validateDefinition(text);
  if (diagnostics.length > 0) {
    const listed = diagnostics.slice(0, 5).map((d) => `${d.code}: ${d.message} at ${d.location || '/'}`);
    const more = diagnostics.length > 5 ? ` and ${diagnostics.length - 5} more` : '';
    throw new SluiceError('InvalidDefinition', `Invalid State Machine Definition: '${listed.join(', ')}'${more}`, {
      field: 'definition',
    });
  }
  return normalise(JSON.parse(text) as JsonObject) as unknown as Definition;
}

/** Legacy spellings to today's: Map's Iterator → ItemProcessor, Parameters → ItemSelector. */
function normalise(machine: JsonObject): JsonObject {
  const states = machine.States as Record<string, JsonObject>;
  for (const state of Object.values(states)) {
    if (state.Type === 'Map') {
      if (state.Iterator !== undefined) {
        state.ItemProcessor = state.Iterator;
        delete state.Iterator;
      }
      if (state.Parameters !== undefined) {
        state.ItemSelector = state.Parameters;
        delete state.Parameters;
      }
      normalise(state.ItemProcessor as JsonObject);
    }
    if (state.Type === 'Parallel') for (const b of state.Branches as JsonObject[]) normalise(b);
  }
  return machine;
}
