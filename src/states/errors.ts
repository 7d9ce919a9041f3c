/**
 * Errors inside an execution, in Amazon States Language's words: a name (`States.Timeout`, a Lambda
 * function's `errorType`, a Fail state's `Error`) and a cause. These are data that Retry and Catch match,
 * never exceptions a caller sees; `InvalidDefinition` is the one thrown at the API.
 */
export interface StatesFailure {
  error: string;
  cause: string;
}

/** Thrown while processing a state; the interpreter turns it into the state's failure. */
export class StatesError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
  ) {
    super(`${error}: ${causeText}`);
    this.name = 'StatesError';
  }

  get failure(): StatesFailure {
    return { error: this.error, cause: this.causeText };
  }
}

export const StatesErrors = {
  ALL: 'States.ALL',
  Timeout: 'States.Timeout',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  TaskFailed: 'States.TaskFailed',
  Permissions: 'States.Permissions',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  ParameterPathFailure: 'States.ParameterPathFailure',
  QueryEvaluationError: 'States.QueryEvaluationError',
  BranchFailed: 'States.BranchFailed',
  NoChoiceMatched: 'States.NoChoiceMatched',
  IntrinsicFailure: 'States.IntrinsicFailure',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  ItemReaderFailed: 'States.ItemReaderFailed',
  DataLimitExceeded: 'States.DataLimitExceeded',
  Runtime: 'States.Runtime',
} as const;

/** Errors that `States.ALL` does not match and that no Retry or Catch handles: the execution fails. */
export function isTerminalError(error: string): boolean {
  return error === StatesErrors.DataLimitExceeded || error === StatesErrors.Runtime;
}

/** Whether a Retrier's or Catcher's ErrorEquals list matches `error` (AWS's rules for the wildcards). */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  if (isTerminalError(error)) return errorEquals.includes(error);
  for (const name of errorEquals) {
    if (name === error) return true;
    if (name === StatesErrors.ALL) return true;
    // States.TaskFailed is a wildcard for any known error name but States.Timeout.
    if (name === StatesErrors.TaskFailed && error !== StatesErrors.Timeout) return true;
  }
  return false;
}
