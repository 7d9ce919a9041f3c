/**
 * Name-ordered pagination for SQS's list operations. The NextToken is the last name returned, encoded,
 * so a page never repeats or skips a name even when queues come and go between calls.
 */
import { SluiceError } from '../../model/errors.js';

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export function paginateNames(params: {
  names: readonly string[];
  maxResults: number | undefined;
  nextToken: string | undefined;
}): Page<string> {
  const { maxResults, nextToken } = params;
  if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000)) {
    throw new SluiceError('InvalidParameterValue', `MaxResults: ${maxResults} is invalid; must be an integer from 1 to 1000`, {
      field: 'MaxResults',
    });
  }
  let after: string | undefined;
  if (nextToken !== undefined) {
    const decoded = Buffer.from(nextToken, 'base64url').toString('utf8');
    if (!decoded.startsWith('n:')) {
      throw new SluiceError('InvalidParameterValue', 'NextToken: is not a token this node issued', { field: 'NextToken' });
    }
    after = decoded.slice(2);
  }
  const sorted = [...params.names].sort();
  const remaining = after === undefined ? sorted : sorted.filter((name) => name > after);
  // Without MaxResults SQS returns up to 1,000 results and no token.
  const limit = maxResults ?? 1000;
  const items = remaining.slice(0, limit);
  const more = maxResults !== undefined && remaining.length > limit;
  return more ? { items, nextToken: Buffer.from(`n:${items[items.length - 1]}`, 'utf8').toString('base64url') } : { items };
}
