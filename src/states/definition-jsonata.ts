/**
 * Validation of states in JSONata mode (`"QueryLanguage": "JSONata"`): their fields (Arguments, Output,
 * Assign, Items, Condition; none of JSONPath's InputPath, Parameters, ResultSelector, ResultPath,
 * OutputPath or `...Path` fields), and that every `{% %}` expression compiles.
 */
import type { Checker } from './definition.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { isJsonataExpression, jsonataSyntaxError } from './jsonata.js';

const common = ['Type', 'Comment', 'Next', 'End', 'QueryLanguage', 'Output', 'Assign'];
const jsonataFields: Record<string, string[]> = {
  Pass: common,
  Task: [...common, 'Resource', 'Arguments', 'Retry', 'Catch', 'TimeoutSeconds', 'HeartbeatSeconds', 'Credentials'],
  Choice: ['Type', 'Comment', 'QueryLanguage', 'Choices', 'Default', 'Output', 'Assign'],
  Wait: [...common, 'Seconds', 'Timestamp'],
  Succeed: ['Type', 'Comment', 'QueryLanguage', 'Output'],
  Fail: ['Type', 'Comment', 'QueryLanguage', 'Error', 'Cause'],
  Parallel: [...common, 'Branches', 'Arguments', 'Retry', 'Catch'],
  Map: [...common, 'ItemProcessor', 'Items', 'ItemSelector', 'MaxConcurrency', 'ToleratedFailurePercentage', 'ToleratedFailureCount', 'Retry', 'Catch', 'Label'],
};

/** Reports every `{% %}` string under `value` that does not compile. */
function expressions(checker: Checker, value: Json | undefined, at: string): void {
  if (typeof value === 'string') {
    const problem = jsonataSyntaxError(value);
    if (problem) checker.error('SCHEMA_VALIDATION_FAILED', `The JSONata expression is not valid: ${problem}`, at);
  } else if (Array.isArray(value)) value.forEach((v, i) => expressions(checker, v, `${at}[${i}]`));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) expressions(checker, v, `${at}/${k}`);
}

function numberOrExpression(checker: Checker, value: Json | undefined, at: string, min: number): void {
  if (value === undefined) return;
  if (isJsonataExpression(value)) return expressions(checker, value, at);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    checker.error('SCHEMA_VALIDATION_FAILED', `must be an integer of at least ${min} or a JSONata expression`, at);
}

export function checkJsonataState(checker: Checker, s: JsonObject, type: string, names: string[], at: string): void {
  for (const key of Object.keys(s))
    if (!(jsonataFields[type] as string[]).includes(key))
      checker.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported in a JSONata state`, `${at}/${key}`);
  if (['Pass', 'Task', 'Wait', 'Parallel', 'Map'].includes(type)) {
    if (s.Next !== undefined && s.End !== undefined) checker.error('SCHEMA_VALIDATION_FAILED', 'A state may have Next or End, not both', at);
    else if (s.Next !== undefined) checker.target(s.Next, names, `${at}/Next`);
    else if (s.End !== true) checker.error('MISSING_TRANSITION_TARGET', 'A state must have Next or "End": true', at);
  }
  for (const field of ['Arguments', 'Output', 'Assign', 'Items', 'ItemSelector', 'Error', 'Cause'])
    if (s[field] !== undefined) expressions(checker, s[field], `${at}/${field}`);
  if (s.Assign !== undefined && !isObject(s.Assign)) checker.error('SCHEMA_VALIDATION_FAILED', 'Assign must be an object', `${at}/Assign`);
  if (s.Retry !== undefined) checker.retriers(s.Retry, `${at}/Retry`);
  if (s.Catch !== undefined) {
    if (!Array.isArray(s.Catch)) checker.error('SCHEMA_VALIDATION_FAILED', 'Catch must be an array', `${at}/Catch`);
    else
      s.Catch.forEach((c, i) => {
        const where = `${at}/Catch[${i}]`;
        if (!isObject(c)) return checker.error('SCHEMA_VALIDATION_FAILED', 'A catcher must be an object', where);
        for (const key of Object.keys(c))
          if (!['ErrorEquals', 'Next', 'Output', 'Assign', 'Comment'].includes(key))
            checker.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported in a JSONata catcher`, `${where}/${key}`);
        checker.errorEquals(c.ErrorEquals, `${where}/ErrorEquals`, i === (s.Catch as Json[]).length - 1);
        checker.target(c.Next, names, `${where}/Next`);
        expressions(checker, c.Output, `${where}/Output`);
        expressions(checker, c.Assign, `${where}/Assign`);
      });
  }
  switch (type) {
    case 'Task':
      if (typeof s.Resource !== 'string' || !s.Resource.startsWith('arn:')) checker.error('SCHEMA_VALIDATION_FAILED', 'Resource must be an ARN', `${at}/Resource`);
      numberOrExpression(checker, s.TimeoutSeconds, `${at}/TimeoutSeconds`, 1);
      numberOrExpression(checker, s.HeartbeatSeconds, `${at}/HeartbeatSeconds`, 1);
      return;
    case 'Wait':
      if ((s.Seconds === undefined) === (s.Timestamp === undefined)) checker.error('SCHEMA_VALIDATION_FAILED', 'A Wait state needs exactly one of Seconds and Timestamp', at);
      numberOrExpression(checker, s.Seconds, `${at}/Seconds`, 0);
      if (typeof s.Timestamp === 'string' && !isJsonataExpression(s.Timestamp) && Number.isNaN(Date.parse(s.Timestamp)))
        checker.error('SCHEMA_VALIDATION_FAILED', 'Timestamp must be an ISO-8601 timestamp or a JSONata expression', `${at}/Timestamp`);
      else expressions(checker, s.Timestamp, `${at}/Timestamp`);
      return;
    case 'Choice':
      if (!Array.isArray(s.Choices) || s.Choices.length === 0) return checker.error('SCHEMA_VALIDATION_FAILED', 'Choices must be a non-empty array', `${at}/Choices`);
      s.Choices.forEach((rule, i) => {
        const where = `${at}/Choices[${i}]`;
        if (!isObject(rule)) return checker.error('SCHEMA_VALIDATION_FAILED', 'A choice rule must be an object', where);
        for (const key of Object.keys(rule))
          if (!['Condition', 'Next', 'Output', 'Assign', 'Comment'].includes(key))
            checker.error('SCHEMA_VALIDATION_FAILED', `The field '${key}' is not supported in a JSONata choice rule`, `${where}/${key}`);
        if (typeof rule.Condition !== 'boolean' && !isJsonataExpression(rule.Condition))
          checker.error('SCHEMA_VALIDATION_FAILED', 'Condition must be a JSONata expression ({% ... %}) or a boolean', `${where}/Condition`);
        expressions(checker, rule.Condition, `${where}/Condition`);
        expressions(checker, rule.Output, `${where}/Output`);
        expressions(checker, rule.Assign, `${where}/Assign`);
        checker.target(rule.Next, names, `${where}/Next`);
      });
      if (s.Default !== undefined) checker.target(s.Default, names, `${at}/Default`);
      return;
    case 'Parallel':
      if (!Array.isArray(s.Branches) || s.Branches.length === 0) return checker.error('SCHEMA_VALIDATION_FAILED', 'Branches must be a non-empty array', `${at}/Branches`);
      s.Branches.forEach((b, i) => checker.machine(b, `${at}/Branches[${i}]`, false, 'JSONata'));
      return;
    case 'Map':
      if (s.ItemProcessor === undefined) return checker.error('SCHEMA_VALIDATION_FAILED', 'A Map state needs ItemProcessor', `${at}/ItemProcessor`);
      checker.machine(s.ItemProcessor, `${at}/ItemProcessor`, false, 'JSONata');
      // As in JSONPath states (definition.ts): a Distributed Map would otherwise run inline, unannounced.
      if (isObject(s.ItemProcessor) && isObject(s.ItemProcessor.ProcessorConfig) && s.ItemProcessor.ProcessorConfig.Mode === 'DISTRIBUTED')
        checker.error('SCHEMA_VALIDATION_FAILED', 'Distributed Map is not supported by Sluice (INLINE only)', `${at}/ItemProcessor/ProcessorConfig/Mode`);
      numberOrExpression(checker, s.MaxConcurrency, `${at}/MaxConcurrency`, 0);
      return;
    default:
      return;
  }
}
