/**
 * `stateMachines:` in the config file: Step Functions state machines, each with its Amazon States
 * Language definition inline (an object) or in a file (`definitionFile: ./order.asl.json`, relative to
 * the config file). Definitions are validated before anything is applied (preflight.ts).
 */
import { z } from 'zod';

export const stateMachineNameKey = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,80}$/, { error: 'a state machine name must be 1-80 letters, digits, \'-\', \'_\' or \'.\'' });

export const stateMachineConfigSchema = z
  .strictObject({
    definition: z.record(z.string(), z.unknown()).optional(),
    definitionFile: z.string().min(1).optional(),
    type: z.enum(['STANDARD', 'EXPRESS']).optional(),
    roleArn: z.string().optional(),
    description: z.string().max(256).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .refine((m) => (m.definition === undefined) !== (m.definitionFile === undefined), { error: 'give exactly one of definition and definitionFile' });

export type StateMachineConfig = z.output<typeof stateMachineConfigSchema>;

export const stateMachinesSchema = z.record(stateMachineNameKey, stateMachineConfigSchema);
