/**
 * What ValidateStateMachineDefinition and CreateStateMachine check, as one pure function: the States
 * Language rules (definition.ts) and the task resources this Sluice can run (resources.ts).
 */
import { validateDefinition, type Definition, type Diagnostic } from './definition.js';
import { unsupportedResources } from './resources.js';

export function stateMachineDiagnostics(definition: string | object): Diagnostic[] {
  const text = typeof definition === 'string' ? definition : JSON.stringify(definition);
  const diagnostics = validateDefinition(text);
  if (diagnostics.length > 0) return diagnostics;
  for (const { resource, location } of unsupportedResources(JSON.parse(text) as Definition))
    diagnostics.push({
      severity: 'ERROR',
      code: 'SCHEMA_VALIDATION_FAILED',
      message: `The resource '${resource}' is not supported by Sluice (Lambda function ARNs, lambda:invoke and sqs:sendMessage with or without .waitForTaskToken, dynamodb:putItem/getItem/updateItem/deleteItem, states:startExecution with .sync, .sync:2 or .waitForTaskToken)`,
      location,
    });
  return diagnostics;
}
