/**
 * `stateMachines:` in the config file: Step Functions state machines, each with its Amazon States
 * Language definition inline (an object) or in a file (`definitionFile: ./order.asl.json`, relative to
 * the config file). Definitions are validated before anything is applied (preflight.ts).
 *
 * `publish: true` publishes a version of each new definition (Step Functions' PublishStateMachineVersion;
 * an unchanged definition publishes nothing), and `aliases:` declares aliases routing to versions, by
 * number or as `latest` (the version of the definition in the file, which needs `publish: true`).
 */
import { z } from 'zod';

export const stateMachineNameKey = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,80}$/, { error: 'a state machine name must be 1-80 letters, digits, \'-\', \'_\' or \'.\'' });

/** As Step Functions names aliases: 1-80 letters, digits, `_`, `-`, `.`, not digits only. */
const aliasNameKey = z.string().regex(/^(?=.*[a-zA-Z_.-])[a-zA-Z0-9_.-]{1,80}$/, { error: "an alias name must be 1-80 letters, digits, '-', '_' or '.', and not only digits" });
const versionRef = z.union([z.literal('latest'), z.number().int().min(1)]);

/** An alias: all executions to one version (`version: 3` or `latest`), or split between two by `routing`. */
const aliasConfigSchema = z
  .strictObject({
    description: z.string().max(256).optional(),
    version: versionRef.optional(),
    routing: z
      .array(z.strictObject({ version: versionRef, weight: z.number().int().min(0).max(100) }))
      .min(1)
      .max(2)
      .optional(),
  })
  .refine((a) => (a.version === undefined) !== (a.routing === undefined), { error: 'give exactly one of version and routing' });

export type AliasConfig = z.output<typeof aliasConfigSchema>;

/** An alias's routes, `version: n` being one route of weight 100. */
export function routesOf(alias: AliasConfig): { version: number | 'latest'; weight: number }[] {
  return alias.routing ?? [{ version: alias.version as number | 'latest', weight: 100 }];
}

export const stateMachineConfigSchema = z
  .strictObject({
    definition: z.record(z.string(), z.unknown()).optional(),
    definitionFile: z.string().min(1).optional(),
    type: z.enum(['STANDARD', 'EXPRESS']).optional(),
    roleArn: z.string().optional(),
    description: z.string().max(256).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    publish: z.boolean().optional(),
    versionDescription: z.string().max(256).optional(),
    aliases: z.record(aliasNameKey, aliasConfigSchema).optional(),
  })
  .refine((m) => (m.definition === undefined) !== (m.definitionFile === undefined), { error: 'give exactly one of definition and definitionFile' })
  .refine((m) => m.publish === true || !Object.values(m.aliases ?? {}).some((a) => routesOf(a).some((r) => r.version === 'latest')), {
    error: "an alias routing to 'latest' needs publish: true (only a published definition has a version)",
    path: ['aliases'],
  });

export type StateMachineConfig = z.output<typeof stateMachineConfigSchema>;

export const stateMachinesSchema = z.record(stateMachineNameKey, stateMachineConfigSchema);
