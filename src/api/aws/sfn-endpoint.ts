/**
 * The Step Functions API over AWS's JSON protocol, so `@aws-sdk/client-sfn` (and the AWS CLI) can
 * manage state machines, run executions and answer task tokens: `POST /` with `X-Amz-Target:
 * AWSStepFunctions.<Operation>` (sfn-operations.ts lists them), `application/x-amz-json-1.0`, signed
 * with SigV4 for the service `states`. It shares `/` with the SQS endpoint, as AWS's local emulators do: a pre-handler
 * takes the requests whose target names Step Functions before the SQS handler sees them.
 *
 * `handleStepFunctionsRequest` is the protocol as a pure function of the target and the body; the
 * registration adds only authentication and the Fastify plumbing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallbackService } from '../../callbacks/service.js';
import type { StateMachineService } from '../../states/service.js';
import { SluiceError } from '../../model/errors.js';
import { checkAwsSignature } from '../auth/aws-signature.js';
import type { AuthSettings } from '../auth/credentials.js';
import { parseInput, parseJsonObject } from '../validation.js';
import {
  awsJsonErrorResponse,
  awsJsonResponse,
  parseAmzTarget,
  SFN_JSON,
  type AwsJsonResponse,
} from './json-protocol.js';
import { sfnHandlers, sfnSchemas, type SfnDeps, type SfnOperation } from './sfn-operations.js';

function isOperation(name: string): name is SfnOperation {
  return Object.hasOwn(sfnSchemas, name);
}

/** Answers one Step Functions JSON-protocol request: `target` is the X-Amz-Target header. */
export async function handleStepFunctionsRequest(
  deps: SfnDeps,
  target: string | undefined,
  body: Buffer | string,
  requestId?: string,
): Promise<AwsJsonResponse> {
  try {
    const parsed = parseAmzTarget(target);
    if (!parsed || parsed.servicePrefix !== SFN_JSON.targetPrefix || !isOperation(parsed.operation)) {
      throw new SluiceError(
        'UnknownOperationException',
        `X-Amz-Target: ${JSON.stringify(target ?? null)} is not a Step Functions operation Sluice serves (${Object.keys(sfnSchemas).join(', ')})`,
        {
          field: 'X-Amz-Target',
        },
      );
    }
    const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const operation = parsed.operation;
    const input = validate(operation, parseJsonObject(raw, { allowEmpty: true }));
    const handler = sfnHandlers[operation] as (deps: SfnDeps, input: unknown) => Promise<object>;
    return awsJsonResponse(SFN_JSON, await handler(deps, input), requestId);
  } catch (error) {
    return awsJsonErrorResponse(SFN_JSON, error, requestId);
  }
}

/** Step Functions reports every malformed input as ValidationException, naming the member. */
function validate(operation: SfnOperation, input: Record<string, unknown>): unknown {
  let parsed: unknown;
  try {
    parsed = parseInput(sfnSchemas[operation], input);
  } catch (error) {
    if (error instanceof SluiceError)
      throw new SluiceError('ValidationException', error.message, error.field ? { field: error.field } : {});
    throw error;
  }
  // The library takes a machine's name where an ARN goes; the API does not: AWS answers InvalidArn.
  for (const [member, value] of Object.entries(parsed as Record<string, unknown>))
    if (member.endsWith('Arn') && typeof value === 'string' && !value.startsWith('arn:'))
      throw new SluiceError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${value}'`, { field: member });
  return parsed;
}

export interface StepFunctionsEndpointOptions {
  callbacks: CallbackService;
  stateMachines: StateMachineService;
  auth: AuthSettings;
  /** Aborted when the node begins to close: GetActivityTask long polls answer `{}` then. */
  shutdown?: AbortSignal;
}

export function isStepFunctionsRequest(request: FastifyRequest): boolean {
  const target = request.headers['x-amz-target'];
  return (
    typeof target === 'string' &&
    target.startsWith(`${SFN_JSON.targetPrefix}.`) &&
    request.url.split('?')[0] === '/'
  );
}

/** Serves Step Functions requests at `/` ahead of the SQS endpoint's handler. */
export function registerStepFunctionsEndpoint(
  app: FastifyInstance,
  options: StepFunctionsEndpointOptions,
): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isStepFunctionsRequest(request)) return;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const authError = checkAwsSignature({
      request,
      body,
      auth: options.auth,
      service: 'states',
      now: Date.now(),
    });
    const response = authError
      ? awsJsonErrorResponse(SFN_JSON, authError, request.id)
      : await handleStepFunctionsRequest(
          { callbacks: options.callbacks, stateMachines: options.stateMachines, ...(options.shutdown ? { shutdown: options.shutdown } : {}) },
          request.headers['x-amz-target'] as string,
          body,
          request.id,
        );
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
}
