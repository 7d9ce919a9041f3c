export { Sluice } from './engine/sluice.js';
export type { SluiceOptions } from './engine/sluice.js';
export { SluiceError, isSluiceError, errorCatalog } from './model/errors.js';
export type { ErrorCode } from './model/errors.js';
export { systemClock, ManualClock } from './model/clock.js';
export type { Clock } from './model/clock.js';
export { openStore, registerStoreFactory } from './store/open.js';
export type { Store } from './store/store.js';
export type { QueueService } from './queues/service.js';
export type { QueueAttributesInput } from './queues/attributes.js';
export type { QueueSettings, RedrivePolicy, RedriveAllowPolicy } from './store/queue-settings.js';
export type * from './queues/types.js';
export type { MessageAttributeInput, StoredMessageAttribute } from './queues/message-attributes.js';
export type { FunctionService } from './functions/service.js';
export type * from './functions/types.js';
export type { TriggerService } from './triggers/service.js';
export type * from './triggers/types.js';
export type { FilterCriteria } from './triggers/filter/filter-criteria.js';
export type { CallbackService } from './callbacks/service.js';
export type { CreateTaskInput, PendingTask, SendTaskToFunctionInput, SendTaskToQueueInput, TaskOutcome, TaskTimeouts, TaskView } from './callbacks/types.js';
export type { ScheduleService } from './schedules/service.js';
export type { ScheduleInput, ScheduleUpdate, ScheduleView, ScheduledEvent } from './schedules/types.js';
export type { TargetInput } from './schedules/target.js';
export type { ScheduleTarget, FunctionTarget, QueueTarget, BatchTarget } from './store/targets.js';
export type { BatchService, BatchSource } from './batches/service.js';
export type { BatchInput, BatchItems, BatchView, BatchChunk, BatchItemFailure, BatchProcessorResponse, FailedItemView } from './batches/types.js';
export type { BatchSummary } from './store/rules/batch-finalizer.js';
export { processBatchItems } from './batches/items.js';
export type { BatchItemContext } from './batches/items.js';
export type { GroupLimitService } from './limits/service.js';
export { groupLimitBounds } from './limits/types.js';
export type { GroupLimitInput, GroupLimitView } from './limits/types.js';
export type { GroupLimit, RateLimit } from './store/group-limit.js';
export type { GroupSyncOptions, GroupTableSync } from './limits/table-sync.js';
export type { GroupKeyRule } from './limits/group-key.js';
export type { GroupActivityCounts, GroupActivityView, QueueGroupActivity } from './limits/group-activity.js';
export type { Cluster } from './cluster/cluster.js';
export { clusterDefaults } from './cluster/settings.js';
export type { ClusterOptions, ClusterSettings } from './cluster/settings.js';
export type { NodeMembership } from './cluster/membership.js';
export type { LeaseHolder, LeaseKeeper } from './cluster/leases.js';
export type { SlotGrants } from './cluster/slots.js';
export type { ClusterNodeRow, HeartbeatOutcome, LeaseFence, LeaseRow, NodeStatus } from './store/cluster-store.js';
export type { TableService } from './tables/service.js';
export type * from './tables/types.js';
export type { CreateTableInput, UpdateTableInput } from './tables/definition.js';
export type { KeyAttribute, KeyType, StreamViewType } from './store/table-definition.js';
export type { Item, AttributeValue } from './tables/expressions/index.js';
export { ConditionalCheckFailed, TransactionCanceled } from './tables/errors.js';
/** Numbers a double cannot hold exactly (up to 38 digits), as @aws-sdk/lib-dynamodb's NumberValue. */
export { NumberValue } from './tables/expressions/index.js';
export type { CancellationReason } from './tables/errors.js';
export type { StreamService, StreamDescription } from './streams/service.js';
export type { StreamTriggerService } from './triggers/stream/stream-service.js';
export type * from './triggers/stream/stream-types.js';
export type { StreamFailureRecord } from './triggers/stream/stream-failure.js';
export type { StateMachineService, StateMachineInput, StateMachineView, ExecutionView, ExecutionListItem, HistoryEventView } from './states/service.js';
export type { Definition as StateMachineDefinition, Diagnostic as DefinitionDiagnostic } from './states/definition.js';
export type { StateMachineType, StoredExecutionStatus as ExecutionStatus } from './store/state-machine-store.js';
export { defineConfig } from './config/schema.js';
export type { SluiceConfig, SluiceConfigInput } from './config/schema.js';
// Lambda's event and response types (from @types/aws-lambda, a dependency), re-exported so that handlers
// type their events from 'sluice' alone: `import type { SQSEvent, SQSBatchResponse } from 'sluice'`.
export type {
  Context,
  SQSEvent,
  SQSRecord,
  SQSBatchResponse,
  SQSBatchItemFailure,
  SQSHandler,
  DynamoDBStreamEvent,
  DynamoDBRecord,
  DynamoDBBatchResponse,
  DynamoDBBatchItemFailure,
  DynamoDBStreamHandler,
  StreamRecord,
} from 'aws-lambda';
export type { EngineEvent, EngineEventListener, InvocationOrigin, InvocationError } from './observability/events.js';
