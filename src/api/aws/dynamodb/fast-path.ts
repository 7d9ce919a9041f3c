/**
 * DynamoDB and DynamoDB Streams requests taken straight from Node's HTTP server, before Fastify: the
 * JSON 1.0 protocols need none of its routing, hooks or reply machinery (one path, one header to
 * dispatch on, a JSON body in and out), and on the DynamoDB benchmark's profile that machinery was a
 * large share of the node's CPU per call. Only the plain case is taken: POST / with a DynamoDB target,
 * a Content-Length within the body limit, a signature whose headers pass the precheck, and a node not
 * shutting down. Every other request (a refusal to answer, a chunked or oversized body, shutdown) goes
 * to Fastify as before, which answers it as it always did, so errors keep one source.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthSettings } from '../../auth/credentials.js';
import { precheckSigV4, verifySigV4 } from '../sigv4.js';
import { DYNAMODB_JSON, DYNAMODB_STREAMS_JSON } from '../json-protocol.js';
import { dynamoDbErrorResponse, handleDynamoDbRequest, type DynamoDbEndpointContext } from './endpoint.js';

export interface DynamoDbFastPathOptions {
  context: DynamoDbEndpointContext;
  auth: AuthSettings;
  shutdown: AbortSignal;
  maxBodyBytes: number;
}

const dynamoDbPrefix = `${DYNAMODB_JSON.targetPrefix}.`;
const streamsPrefix = `${DYNAMODB_STREAMS_JSON.targetPrefix}.`;

/** Returns a handler that answers the request and returns true, or returns false and leaves it alone. */
export function dynamoDbFastPath(options: DynamoDbFastPathOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  const verifyOptions = () => ({
    credentials: (id: string) => options.auth.accessKeys.get(id),
    service: 'dynamodb',
    now: Date.now(),
  });
  return (request, response) => {
    if (request.method !== 'POST' || request.url !== '/' || options.shutdown.aborted) return false;
    const { headers } = request;
    const target = headers['x-amz-target'];
    if (typeof target !== 'string' || !(target.startsWith(dynamoDbPrefix) || target.startsWith(streamsPrefix))) return false;
    const declared = headers['content-length'];
    if (declared === undefined || headers['transfer-encoding'] !== undefined) return false;
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0 || length > options.maxBodyBytes) return false;
    const insecure = options.auth.insecureDev;
    if (!insecure && precheckSigV4({ method: 'POST', path: '/', headers }, verifyOptions()) !== undefined) return false;

    const chunks: Buffer[] = [];
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > length) request.destroy();
      else chunks.push(chunk);
    });
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const requestId = randomUUID();
      const verified = insecure ? undefined : verifySigV4({ method: 'POST', path: '/', headers, body }, verifyOptions());
      const answer = verified && !verified.ok
        ? Promise.resolve(dynamoDbErrorResponse(target.startsWith(streamsPrefix) ? DYNAMODB_STREAMS_JSON : DYNAMODB_JSON, verified.error, requestId))
        : handleDynamoDbRequest(options.context, target, body, requestId);
      void answer.then(
        (result) => {
          // The headers are this response's own object: no copy.
          result.headers['content-length'] = String(Buffer.byteLength(result.body));
          response.writeHead(result.status, result.headers);
          response.end(result.body);
        },
        () => response.destroy(),
      );
    });
    return true;
  };
}
