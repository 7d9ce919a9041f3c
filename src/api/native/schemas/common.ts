/**
 * Shapes every native route shares: the error body and batch results. Request objects are strict
 * (an unknown field is refused, so a typo fails loudly instead of being ignored).
 */
import { z } from 'zod';

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    requestId: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof errorBody>;

export const batchFailure = z.object({ id: z.string(), code: z.string(), message: z.string(), senderFault: z.boolean() });

export function batchResult<T extends z.ZodRawShape>(successShape: T) {
  return z.object({ successful: z.array(z.object({ id: z.string(), ...successShape })), failed: z.array(batchFailure) });
}

export const empty = z.strictObject({});
