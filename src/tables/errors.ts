/**
 * The two table errors that carry data besides their message: the item a failed condition saw (when
 * ReturnValuesOnConditionCheckFailure asks for it) and a cancelled transaction's reason per action.
 */
import { SluiceError } from '../model/errors.js';
import type { Item } from './expressions/index.js';

export class ConditionalCheckFailed extends SluiceError {
  /** The item as it was, when the request set returnValuesOnConditionCheckFailure: 'ALL_OLD'. */
  readonly item: Item | undefined;

  constructor(item?: Item) {
    super('ConditionalCheckFailedException', 'The conditional request failed');
    this.item = item;
  }
}

export interface CancellationReason {
  /** 'None' for an action that would have succeeded; otherwise why the transaction was cancelled. */
  code: 'None' | 'ConditionalCheckFailed' | 'ItemCollectionSizeLimitExceeded';
  message?: string;
  item?: Item;
}

/** DynamoDB's ItemCollectionSizeLimitExceededException (its documented message, with the limit in force). */
export function itemCollectionTooLarge(limitBytes: number): SluiceError {
  const limit = limitBytes === 10 * 1024 * 1024 * 1024 ? '10 gigabytes' : `${limitBytes} bytes`;
  return new SluiceError(
    'ItemCollectionSizeLimitExceededException',
    `Item collection size limit exceeded: the total size of an item collection has exceeded the maximum limit of ${limit}`,
  );
}

export class TransactionCanceled extends SluiceError {
  readonly cancellationReasons: CancellationReason[];

  constructor(reasons: CancellationReason[]) {
    super(
      'TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.code).join(', ')}]`,
    );
    this.cancellationReasons = reasons;
  }
}
