/**
 * Lambda's rules for a partial batch response (ReportBatchItemFailures):
 * - success: no response, `{}`, a null or empty `batchItemFailures`;
 * - whole-batch failure: an itemIdentifier that is missing, not a string, empty, or not a message of
 *   the batch, and a response that is not an object at all (Lambda cannot read it as a batch response);
 * - otherwise only the listed messages failed.
 */
export type BatchVerdict =
  { kind: 'success' } | { kind: 'failure'; reason: string } | { kind: 'partial'; failed: Set<string> };

const SUCCESS: BatchVerdict = { kind: 'success' };

export function judgeBatchResponse(
  response: unknown,
  isInBatch: (messageId: string) => boolean,
): BatchVerdict {
  if (response === null || response === undefined) return SUCCESS;
  if (typeof response !== 'object' || Array.isArray(response)) {
    return { kind: 'failure', reason: 'the response is not a batch response object' };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return SUCCESS;
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return SUCCESS;
  const failed = new Set<string>();
  for (const item of failures as unknown[]) {
    const id =
      typeof item === 'object' && item !== null
        ? (item as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof id !== 'string' || id.length === 0)
      return { kind: 'failure', reason: 'an itemIdentifier is missing or empty' };
    if (!isInBatch(id))
      return { kind: 'failure', reason: `the itemIdentifier '${id}' is not a message of the batch` };
    failed.add(id);
  }
  return { kind: 'partial', failed };
}
