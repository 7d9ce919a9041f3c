/**
 * A queue's settings as the store keeps them: SQS's attribute names, every value normalised (numbers,
 * parsed policies). The queues feature validates callers' input into this form (queues/attributes.ts);
 * the store persists it and compares it on idempotent create.
 */
export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export interface RedriveAllowPolicy {
  redrivePermission: 'allowAll' | 'denyAll' | 'byQueue';
  sourceQueueArns?: string[];
}

export interface QueueSettings {
  VisibilityTimeout: number;
  DelaySeconds: number;
  MessageRetentionPeriod: number;
  MaximumMessageSize: number;
  ReceiveMessageWaitTimeSeconds: number;
  RedrivePolicy: RedrivePolicy | null;
  RedriveAllowPolicy: RedriveAllowPolicy | null;
  FifoQueue: boolean;
  ContentBasedDeduplication: boolean;
  DeduplicationScope: 'queue' | 'messageGroup';
  FifoThroughputLimit: 'perQueue' | 'perMessageGroupId';
  /**
   * Sluice's extension: the queue groups its messages by this rule (`MessageGroupId`, `attribute:<name>`,
   * `body:<dot.path>`) and serves each group within its group limits (see limits/). Standard queues only;
   * absent on queues that do not group.
   */
  SluiceGroupKey?: string;
}
