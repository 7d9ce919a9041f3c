/**
 * The AWS services a node speaks at `/`, told apart by the `X-Amz-Target` prefix (JSON protocols) or,
 * for SQS's query protocol, by having none. Each has its own SigV4 signing name: a request is checked
 * against the scope of the service it addresses, so a DynamoDB request is never told its credential
 * "should be scoped to 'sqs'". A request addressed to a service the node does not serve (an unknown
 * target prefix, or an unsigned-target request whose credential scope names another service) is
 * answered with UnknownOperationException naming that service, before any signature check.
 */
import type { FastifyRequest } from 'fastify';
import { SluiceError } from '../../model/errors.js';
import {
  DYNAMODB_JSON,
  DYNAMODB_STREAMS_JSON,
  SFN_JSON,
  SQS_JSON,
  type AwsJsonService,
} from './json-protocol.js';

export interface AwsEndpointService {
  /** What users call it, in messages. */
  label: string;
  json: AwsJsonService;
  /** The service name of the SigV4 credential scope. */
  signingName: string;
}

export const awsEndpointServices: readonly AwsEndpointService[] = [
  { label: 'SQS', json: SQS_JSON, signingName: 'sqs' },
  { label: 'Step Functions', json: SFN_JSON, signingName: 'states' },
  { label: 'DynamoDB', json: DYNAMODB_JSON, signingName: 'dynamodb' },
  { label: 'DynamoDB Streams', json: DYNAMODB_STREAMS_JSON, signingName: 'dynamodb' },
];

const sqsService = awsEndpointServices[0]!;

/** Services the node speaks over REST on their own paths (api/aws/lambda/, api/aws/scheduler/), not at `/`. */
export const restEndpointServices: ReadonlyArray<{ label: string; signingName: string; paths: string }> = [
  { label: 'Lambda', signingName: 'lambda', paths: '/2015-03-31/functions/..., /2015-03-31/event-source-mappings/...' },
  { label: 'EventBridge Scheduler', signingName: 'scheduler', paths: '/schedules/..., /schedule-groups/...' },
];

export type AddressedService =
  { kind: 'served'; service: AwsEndpointService } | { kind: 'unknown'; error: SluiceError };

function servedList(): string {
  return awsEndpointServices.map((s) => `${s.label} (${s.json.targetPrefix})`).join(', ');
}

/** The service an X-Amz-Target names, by its prefix (`DynamoDB_20120810.PutItem` → DynamoDB). */
export function serviceOfTarget(target: string): AwsEndpointService | undefined {
  const dot = target.lastIndexOf('.');
  const prefix = dot > 0 ? target.slice(0, dot) : target;
  return awsEndpointServices.find((service) => service.json.targetPrefix === prefix);
}

/** The credential scope's service of an `Authorization: AWS4-HMAC-SHA256 Credential=id/date/region/svc/...`. */
function scopeServiceOf(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  const credential =
    typeof authorization === 'string' ? /Credential=([^,\s]+)/.exec(authorization)?.[1] : undefined;
  const parts = credential?.split('/');
  return parts && parts.length === 5 ? parts[3] : undefined;
}

const clipped = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}...` : text);

/** Which service a request at `/` (or a queue URL) addresses. */
export function addressedService(request: FastifyRequest): AddressedService {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') {
    const service = serviceOfTarget(target);
    if (service) return { kind: 'served', service };
    return {
      kind: 'unknown',
      error: new SluiceError(
        'UnknownOperationException',
        `X-Amz-Target '${clipped(target)}' names a service this node does not serve; it serves ${servedList()}`,
        { field: 'X-Amz-Target' },
      ),
    };
  }
  if (target !== undefined) {
    return {
      kind: 'unknown',
      error: new SluiceError('UnknownOperationException', 'X-Amz-Target: send one header', {
        field: 'X-Amz-Target',
      }),
    };
  }
  // No target: SQS's query protocol, unless the signature is scoped to a service the node does not
  // speak that way (`aws ec2 --endpoint-url ...`).
  const scope = scopeServiceOf(request);
  const rest = restEndpointServices.find((service) => service.signingName === scope);
  if (rest) {
    return {
      kind: 'unknown',
      error: new SluiceError(
        'UnknownOperationException',
        `The request is signed for ${rest.label}, whose API this node serves on its own paths (${rest.paths}), not at /`,
      ),
    };
  }
  if (scope !== undefined && scope !== sqsService.signingName && !awsEndpointServices.some((s) => s.signingName === scope)) {
    return {
      kind: 'unknown',
      error: new SluiceError(
        'UnknownOperationException',
        `The request is signed for the service '${clipped(scope)}', which this node does not serve; it serves ${servedList()}`,
      ),
    };
  }
  return { kind: 'served', service: sqsService };
}
