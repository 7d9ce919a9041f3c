/**
 * The Step Functions callback API over AWS's JSON protocol, so `@aws-sdk/client-sfn` (and the AWS CLI)
 * can answer Sluice task tokens: `POST /` with `X-Amz-Target: AWSStepFunctions.SendTaskSuccess`
 * (`...SendTaskFailure`, `...SendTaskHeartbeat`), `application/x-amz-json-1.0`, signed with SigV4 for
 * the service `states`. It shares `/` with the SQS endpoint, as AWS's local emulators do: a pre-handler
 * takes the requests whose target names Step Functions before the SQS handler sees them.
 *
 * `handleStepFunctionsRequest` is the protocol as a pure function of the target and the body; the
 * registration adds only authentication and the Fastify plumbing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CallbackService } from '../../callbacks/service.js';
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

const taskToken = z.string().min(1).max(2048);

const operations = {
  SendTaskSuccess: z.object({ taskToken, output: z.string().max(262_144) }),
  SendTaskFailure: z.object({ taskToken, error: z.string().optional(), cause: z.string().optional() }),
  SendTaskHeartbeat: z.object({ taskToken }),
} as const;

type Operation = keyof typeof operations;

function isOperation(name: string): name is Operation {
  return Object.hasOwn(operations, name);
}

/** Answers one Step Functions JSON-protocol request: `target` is the X-Amz-Target header. */
export async function handleStepFunctionsRequest(
  callbacks: CallbackService,
  target: string | undefined,
  body: Buffer | string,
  requestId?: string,
): Promise<AwsJsonResponse> {
  try {
    const parsed = parseAmzTarget(target);
    if (!parsed || parsed.servicePrefix !== SFN_JSON.targetPrefix || !isOperation(parsed.operation)) {
      throw new SluiceError(
        'UnknownOperationException',
        `X-Amz-Target: ${JSON.stringify(target ?? null)} is not a Step Functions operation Sluice serves (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat)`,
        {
          field: 'X-Amz-Target',
        },
      );
    }
    const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const input = validate(parsed.operation, parseJsonObject(raw, { allowEmpty: true }));
    if (parsed.operation === 'SendTaskSuccess') {
      const { taskToken: token, output } = input as z.output<(typeof operations)['SendTaskSuccess']>;
      await callbacks.sendTaskSuccess(token, output);
    } else if (parsed.operation === 'SendTaskFailure') {
      const { taskToken: token, error, cause } = input as z.output<(typeof operations)['SendTaskFailure']>;
      await callbacks.sendTaskFailure(token, {
        ...(error !== undefined ? { error } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    } else {
      await callbacks.sendTaskHeartbeat(
        (input as z.output<(typeof operations)['SendTaskHeartbeat']>).taskToken,
      );
    }
    return awsJsonResponse(SFN_JSON, {}, requestId);
  } catch (error) {
    return awsJsonErrorResponse(SFN_JSON, error, requestId);
  }
}

/** Step Functions reports every malformed input as ValidationException, naming the member. */
function validate(operation: Operation, input: Record<string, unknown>): unknown {
  try {
    return parseInput(operations[operation].strict(), input);
  } catch (error) {
    if (error instanceof SluiceError)
      throw new SluiceError('ValidationException', error.message, error.field ? { field: error.field } : {});
    throw error;
  }
}

export interface StepFunctionsEndpointOptions {
  callbacks: CallbackService;
  auth: AuthSettings;
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
          options.callbacks,
          request.headers['x-amz-target'] as string,
          body,
          request.id,
        );
    return reply.code(response.status).headers(response.headers).send(response.body);
  });
}
