/**
 * Step Functions activities: a named queue of tasks that workers poll (GetActivityTask). A Task state
 * whose Resource is an activity ARN enqueues its effective input with a task token (the execution waits
 * on that token's callback, as for `.waitForTaskToken`); a worker claims the oldest task of the activity,
 * and answers with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat. A claim deletes the task: if
 * the worker dies, the task's heartbeat or timeout fails it, as on AWS.
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
  /** Deletes the activity and the tasks no worker has claimed; false when it did not exist. */
  activityDelete(p: { name: string }): Promise<boolean>;
  /** Adds a task for workers; publishes `activityChannel(activityArn)`. */
  activityTaskEnqueue(p: { activityArn: string; task: ActivityTask; now: number }): Promise<void>;
  /** Takes the oldest task of the activity (it is deleted), or undefined when none waits. */
  activityTaskClaim(p: { activityArn: string }): Promise<ActivityTask | undefined>;
}

/** Published when a task is added to an activity (GetActivityTask long polls wait on it). */
export const activityChannel = (arn: string): string => `activity:${arn}`;
