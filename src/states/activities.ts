/**
 * Step Functions activities: CreateActivity, DescribeActivity, ListActivities, DeleteActivity and
 * GetActivityTask. A Task state naming an activity's ARN puts its input in the activity's tasks with a
 * task token (resources.ts); a worker takes it with GetActivityTask, which long-polls for up to 60 s,
 * woken by the store's notifier when a task is added (never polling), and answers with SendTaskSuccess,
 * SendTaskFailure or SendTaskHeartbeat, as for any task token. Taking it marks the token started by the
 * worker's name in the same store transaction, and the execution records ActivityStarted (runner.ts).
 */
import type { ArnContext } from '../model/arn.js';
import type { Clock } from '../model/clock.js';
import { SluiceError } from '../model/errors.js';
import { activityChannel, type StoredActivity } from '../store/activity-store.js';
import type { Store } from '../store/store.js';
import { waitOnChannel } from '../callbacks/channel-wait.js';
import { TaskFailure } from './resources.js';

/** AWS holds a GetActivityTask open for up to 60 seconds. */
export const ACTIVITY_POLL_MS = 60_000;

const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;

export interface ActivityView {
  activityArn: string;
  name: string;
  creationDate: Date;
  tags: Record<string, string>;
}

export class ActivityService {
  /** Aborted when the engine stops: long polls under way answer `{}` at once instead of holding it up. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: { store: Store; clock: Clock; arn: ArnContext }) {}

  stop(): void {
    this.stopping.abort();
  }

  activityArn(name: string): string {
    return `arn:aws:states:${this.options.arn.region}:${this.options.arn.accountId}:activity:${name}`;
  }

  private nameOf(arn: string, field = 'activityArn'): string {
    const m = /^arn:aws:states:[^:]*:[^:]*:activity:([^:]+)$/.exec(arn);
    if (!m) throw new SluiceError('InvalidArn', `${field}: '${arn}' is not an activity ARN`, { field });
    return m[1] as string;
  }

  /** CreateActivity: idempotent (an existing activity of this name is returned). */
  async create(input: { name: string; tags?: Record<string, string> }): Promise<ActivityView> {
    if (!NAME.test(input.name) || [...input.name].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)))
      throw new SluiceError('InvalidName', `name: ${JSON.stringify(input.name)} is not a valid name (1-80 characters without whitespace, brackets, wildcards, punctuation or control characters)`, { field: 'name' });
    const { activity } = await this.options.store.activityCreate({
      activity: { name: input.name, arn: this.activityArn(input.name), tags: input.tags ?? {}, createdAt: this.options.clock.now() },
    });
    return view(activity);
  }

  async describe(arn: string): Promise<ActivityView> {
    const activity = await this.options.store.activityGet({ name: this.nameOf(arn) });
    if (!activity) throw new SluiceError('ActivityDoesNotExist', `Activity Does Not Exist: '${arn}'`, { field: 'activityArn' });
    return view(activity);
  }

  async list(options: { maxResults?: number; nextToken?: string } = {}): Promise<{ activities: ActivityView[]; nextToken?: string }> {
    const limit = options.maxResults === undefined || options.maxResults === 0 ? 100 : options.maxResults;
    let after: string | undefined;
    if (options.nextToken !== undefined) {
      try {
        after = (JSON.parse(Buffer.from(options.nextToken, 'base64url').toString('utf8')) as { after: string }).after;
      } catch {
        throw new SluiceError('InvalidToken', 'nextToken: is not a token this API returned', { field: 'nextToken' });
      }
    }
    const rows = await this.options.store.activityList({ ...(after !== undefined ? { after } : {}), limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { activities: page.map(view), ...(rows.length > limit && last ? { nextToken: Buffer.from(JSON.stringify({ after: last.name })).toString('base64url') } : {}) };
  }

  /** TagResource / UntagResource on an activity's ARN (ResourceNotFound when it does not exist). */
  async tag(arn: string, changes: { set?: Record<string, string>; remove?: string[] }): Promise<ActivityView> {
    const found = await this.options.store.activityTag({ name: this.nameOf(arn, 'resourceArn'), set: changes.set ?? {}, remove: changes.remove ?? [] });
    if (!found || found.arn !== arn) throw new SluiceError('ResourceNotFound', `Resource not found: '${arn}'`, { field: 'resourceArn' });
    return view(found);
  }

  /** DeleteActivity: the tasks no worker has taken go with it (their executions time out). */
  async delete(arn: string): Promise<void> {
    await this.options.store.activityDelete({ name: this.nameOf(arn) });
  }

  /**
   * GetActivityTask: the oldest task of the activity, or, when none waits, the first one added within
   * 60 s (woken by the notifier); `{}` when none came.
   */
  async getTask(arn: string, options: { signal?: AbortSignal; pollMs?: number; workerName?: string } = {}): Promise<{ taskToken?: string; input?: string }> {
    const { workerName } = options;
    if (workerName !== undefined && (typeof workerName !== 'string' || workerName.length < 1 || workerName.length > 80))
      throw new SluiceError('ValidationException', 'workerName: must be 1-80 characters', { field: 'workerName' });
    await this.describe(arn);
    const { clock, store } = this.options;
    const until = clock.now() + (options.pollMs ?? ACTIVITY_POLL_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, this.stopping.signal]) : this.stopping.signal;
    if (this.stopping.signal.aborted) return {};
    return waitOnChannel<{ taskToken?: string; input?: string }>({
      notifier: store.notifier,
      channel: activityChannel(arn),
      clock,
      signal,
      check: async (wakeAt) => {
        // One write takes the task, records its worker on the token and wakes its execution to record
        // ActivityStarted; tasks whose execution has moved on (stopped, timed out, ended) are dropped.
        const task = await store.activityTaskClaim({ activityArn: arn, now: clock.now(), workerName: workerName ?? null });
        if (task) return { taskToken: task.token, input: task.input };
        if (clock.now() >= until) return {};
        wakeAt(until);
        return undefined;
      },
    }).catch((error: unknown) => {
      // The engine stopping ends the poll with no task, as a poll that found none.
      if (this.stopping.signal.aborted) return {};
      throw error;
    });
  }

  /** A Task state's activity task, for its workers; States.Runtime when the activity does not exist. */
  async enqueue(activityArn: string, task: { token: string; input: string }): Promise<void> {
    const name = /:activity:([^:]+)$/.exec(activityArn)?.[1] ?? '';
    if (!(await this.options.store.activityGet({ name })) || this.activityArn(name) !== activityArn)
      throw new TaskFailure('States.Runtime', `The activity '${activityArn}' does not exist`);
    await this.options.store.activityTaskEnqueue({ activityArn, task, now: this.options.clock.now() });
  }
}

function view(a: StoredActivity): ActivityView {
  return { activityArn: a.arn, name: a.name, creationDate: new Date(a.createdAt), tags: a.tags };
}
