/** Queue tags: at most 50, keys 1-128 and values 0-256 characters, as SQS allows. */
import { SluiceError } from '../model/errors.js';

export const MAX_TAGS = 50;

export function validateTags(tags: unknown, field: string): Record<string, string> {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw new SluiceError('InvalidParameterValue', `${field}: must be an object of tag key to value`, { field });
  }
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > MAX_TAGS) {
    throw new SluiceError('InvalidParameterValue', `${field}: ${entries.length} tags; a queue has at most ${MAX_TAGS}`, { field });
  }
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > 128) {
      throw new SluiceError('InvalidParameterValue', `${field}.${key.slice(0, 40)}: tag keys are 1-128 characters`, { field });
    }
    if (typeof value !== 'string' || value.length > 256) {
      throw new SluiceError('InvalidParameterValue', `${field}.${key}: tag values are strings of at most 256 characters`, { field });
    }
  }
  return { ...(tags as Record<string, string>) };
}
