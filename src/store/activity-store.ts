/**
 * Step Functions activities: a named queue of tasks that workers poll (GetActivityTask). A Task state
 * whose Resource is an activity ARN enqueues its effective input with a task token (the execution waits
 * on that token's callback, as for `.waitForTaskToken`); a worker claims the oldest task of the activity,
 * and answers with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat. A claim deletes the task and
 * records the token's start in one transaction: if the worker dies, the task's heartbeat or timeout
 * fails it, as on AWS.
 */
export interface StoredActivity {
  name: string;
  arn: string;
  tags: Record<string, string>;
  createdAt: number;
}

export interface ActivityTask {
  token: string;
  input: string;
}

export interface ActivityStore {
  /** `created`, or the activity that already has this name (CreateActivity is idempotent). */
  activityCreate(p: { activity: StoredActivity }): Promise<{ outcome: 'created' | 'exists'; activity: StoredActivity }>;
  activityGet(p: { name: string }): Promise<StoredActivity | undefined>;
  /** By name, after `after` (exclusive), at most `limit`. */
  activityList(p: { after?: string; limit: number }): Promise<StoredActivity[]>;
  /**
   * TagResource and UntagResource on an activity: sets `set` and removes `remove` in one transaction (so
   * concurrent calls lose no tag); the activity as it is now, or undefined when it does not exist.
   */
  activityTag(p: { name: string; set: Record<string, string>; remove: string[] }): Promise<StoredActivity | undefined>;
  /** Deletes the activity and the tasks no worker has claimed; false when it did not exist. */
  activityDelete(p: { name: string }): Promise<boolean>;
  /** Adds a task for workers; publishes `activityChannel(activityArn)`. */
  activityTaskEnqueue(p: { activityArn: string; task: ActivityTask; now: number }): Promise<void>;
  /**
   * GetActivityTask's claim: takes the oldest task of the activity (it is deleted) and, in the same
   * transaction, marks its token started at `now` by `workerName` (a token's first start is kept) and
   * wakes the execution waiting on it, which records ActivityStarted. A task is therefore never handed
   * out without its start recorded, whatever node dies when. A task whose token is missing, finished
   * or past its deadline is dropped on the way (its execution times it out or has moved on). Undefined
   * when no task waits.
   */
  activityTaskClaim(p: { activityArn: string; now: number; workerName: string | null }): Promise<ActivityTask | undefined>;
}

/** Published when a task is added to an activity (GetActivityTask long polls wait on it). */
export const activityChannel = (arn: string): string => `activity:${arn}`;
