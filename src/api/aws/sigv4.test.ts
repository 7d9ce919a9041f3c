import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Sha256 } from '@aws-crypto/sha256-js';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifySigV4 } from './sigv4.js';
import type { IncomingSignedRequest, SigV4Result, VerifySigV4Options } from './sigv4.js';

const ACCESS_KEY = 'AKIDSLUICETEST';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SIGNED_AT = new Date(Date.UTC(2026, 0, 15, 12, 0, 0));
const NOW = SIGNED_AT.getTime();
const lookup = (id: string): string | undefined => (id === ACCESS_KEY ? SECRET : undefined);

interface SignInput {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  service?: string;
  region?: string;
  accessKeyId?: string;
  secret?: string;
  sessionToken?: string;
  signingDate?: Date;
  unsignableHeaders?: Set<string>;
}

function signer(input: SignInput): SignatureV4 {
  return new SignatureV4({
    service: input.service ?? 'sqs',
    region: input.region ?? 'us-east-1',
    sha256: Sha256,
    credentials: {
      accessKeyId: input.accessKeyId ?? ACCESS_KEY,
      secretAccessKey: input.secret ?? SECRET,
      ...(input.sessionToken === undefined ? {} : { sessionToken: input.sessionToken }),
    },
  });
}

function unsignedRequest(input: SignInput): HttpRequest {
  return new HttpRequest({
    method: input.method ?? 'POST',
    protocol: 'http:',
    hostname: 'localhost',
    port: 9324,
    path: input.path ?? '/',
    query: input.query ?? {},
    // The SDK's host-header middleware adds `host` before signing; do the same here.
    headers: { host: 'localhost:9324', ...input.headers },
    ...(input.body === undefined ? {} : { body: input.body }),
  });
}

/** Encodes as @smithy/querystring-builder does when the SDK puts the query on the wire. */
const escapeUri = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The request as a server receives it: raw target, lower-case header names, body bytes. */
function onTheWire(request: HttpRequest): IncomingSignedRequest {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(request.query)) {
    for (const v of Array.isArray(value) ? value : [value])
      pairs.push(`${escapeUri(key)}=${escapeUri(String(v))}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  return {
    method: request.method,
    path: request.path + (pairs.length > 0 ? `?${pairs.join('&')}` : ''),
    headers,
    body: Buffer.from(typeof request.body === 'string' ? request.body : ''),
  };
}

async function signed(input: SignInput = {}): Promise<IncomingSignedRequest> {
  const request = await signer(input).sign(unsignedRequest(input), {
    signingDate: input.signingDate ?? SIGNED_AT,
    ...(input.unsignableHeaders === undefined ? {} : { unsignableHeaders: input.unsignableHeaders }),
  });
  return onTheWire(request as HttpRequest);
}

function verify(request: IncomingSignedRequest, options: Partial<VerifySigV4Options> = {}): SigV4Result {
  return verifySigV4(request, { credentials: lookup, service: 'sqs', now: NOW, ...options });
}

function failureCode(result: SigV4Result): string | undefined {
  return result.ok ? undefined : result.error.code;
}

const JSON_POST: SignInput = {
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
  body: JSON.stringify({ QueueUrl: 'http://localhost:9324/000000000000/jobs', MessageBody: 'héllo ✓' }),
};

describe('verifySigV4 with the Authorization header', () => {
  it('accepts a JSON POST signed by @smithy/signature-v4 and names the key and region', async () => {
    const result = verify(await signed({ ...JSON_POST, region: 'eu-west-3' }));
    expect(result).toEqual({
      ok: true,
      accessKeyId: ACCESS_KEY,
      region: 'eu-west-3',
      sessionToken: undefined,
      payloadSigned: true,
      signedAt: NOW,
    });
  });

  it('accepts a GET whose path and query hold spaces, unicode, reserved characters and dot segments', async () => {
    const request = await signed({
      method: 'GET',
      path: `/queue/${escapeUri('my queue')}/${escapeUri('café')}/a+b/(x)/./y/../z//w/`,
      query: {
        'a b': 'c/d',
        list: ['2', '1', '10'],
        empty: '',
        uni: 'é☃𝄞',
        "q'": '*()!~+=&',
        Action: 'ListQueues',
      },
    });
    expect(verify(request).ok).toBe(true);
  });

  it('accepts any path segments and query parameters the SDK signs', async () => {
    // Weighted towards the characters encoders disagree about, plus any code point.
    const char = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...`!'()*~-._ /?&=+%#@:;,$[]"<>\\^{|}\`\t`) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    );
    const text = fc.string({ unit: char, maxLength: 12 });
    const key = text.filter((k) => !k.toLowerCase().startsWith('x-amz-') && k !== '__proto__');
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { maxLength: 4 }),
        fc.dictionary(key, text, { maxKeys: 5 }),
        async (segments, query) => {
          const path = `/${segments.map(escapeUri).join('/')}`;
          const result = verify(await signed({ method: 'GET', path, query }));
          expect(result.ok).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('folds whitespace in signed header values as the SDK does', async () => {
    const request = await signed({
      ...JSON_POST,
      headers: { ...JSON_POST.headers, 'x-sluice-note': '  a   b \t c  ' },
    });
    expect(verify(request).ok).toBe(true);
  });

  it('accepts a header that was not signed being changed', async () => {
    const request = await signed(JSON_POST);
    expect(verify({ ...request, headers: { ...request.headers, 'user-agent': 'something else' } }).ok).toBe(
      true,
    );
  });

  it('accepts UNSIGNED-PAYLOAD and reports that the body is not authenticated', async () => {
    const request = await signed({
      ...JSON_POST,
      headers: { ...JSON_POST.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    const result = verify({ ...request, body: Buffer.from('{"changed":true}') });
    expect(result.ok && result.payloadSigned).toBe(false);
  });

  it('returns a signed session token', async () => {
    const result = verify(await signed({ ...JSON_POST, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' }));
    expect(result.ok && result.sessionToken).toBe('FwoGZXIvYXdzEXAMPLETOKEN');
  });

  it('accepts a request signed exactly at the edge of the allowed skew', async () => {
    const request = await signed(JSON_POST);
    expect(verify(request, { now: NOW + 5 * 60_000 }).ok).toBe(true);
    expect(verify(request, { now: NOW - 5 * 60_000 }).ok).toBe(true);
  });
});

describe('verifySigV4 with claims parsed before (the Authorization header remembered up to its signature)', () => {
  it('checks each signature in full: same header up to the signature, another body or signature', async () => {
    const first = await signed(JSON_POST);
    const second = await signed({ ...JSON_POST, body: '{"other":"body"}' });
    expect(verify(first).ok).toBe(true);
    expect(verify(second).ok).toBe(true);
    // The first's signature on the second's body: the cached claim must not carry a signature over.
    const swapped = { ...second, headers: { ...second.headers, authorization: first.headers.authorization } };
    expect(failureCode(verify(swapped))).toBe('SignatureDoesNotMatch');
    expect(verify(first).ok).toBe(true);
  });

  it('reads a signature glued to another component as that component, not as a signature', async () => {
    const request = await signed(JSON_POST);
    const authorization = request.headers.authorization as string;
    const signature = authorization.slice(-64);
    // `SignedHeaders=...Signature=<hex>`: no comma before it, so no Signature component at all.
    const glued = authorization.replace(/, Signature=[0-9a-f]{64}$/, `Signature=${signature}`);
    const result = verify({ ...request, headers: { ...request.headers, authorization: glued } });
    expect(failureCode(result)).toBe('IncompleteSignature');
    expect(result.ok ? '' : result.error.message).toContain("requires 'Signature'");
    expect(verify(request).ok).toBe(true);
  });

  it('refuses a repeated Signature component every time, cached or not', async () => {
    const request = await signed(JSON_POST);
    const authorization = request.headers.authorization as string;
    const repeated = `${authorization.replace(/Signature=[0-9a-f]{64}$/, `Signature=${'1'.repeat(64)}`)}, Signature=${authorization.slice(-64)}`;
    for (let i = 0; i < 2; i++) {
      const result = verify({ ...request, headers: { ...request.headers, authorization: repeated } });
      expect(result.ok ? '' : result.error.message).toMatch(/repeated component 'Signature'/);
    }
  });
});

describe('verifySigV4 failures', () => {
  it('answers MissingAuthenticationToken when there is no auth at all', async () => {
    const request = await signed(JSON_POST);
    const { authorization: _dropped, ...headers } = request.headers;
    expect(failureCode(verify({ ...request, headers }))).toBe('MissingAuthenticationToken');
  });

  it('answers InvalidClientTokenId for an unknown access key', async () => {
    expect(failureCode(verify(await signed({ ...JSON_POST, accessKeyId: 'AKIDUNKNOWN' })))).toBe(
      'InvalidClientTokenId',
    );
  });

  it('answers SignatureDoesNotMatch for the wrong secret', async () => {
    expect(failureCode(verify(await signed({ ...JSON_POST, secret: 'not-the-secret' })))).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('answers SignatureDoesNotMatch for a tampered body, with or without x-amz-content-sha256', async () => {
    const tampered = Buffer.from(JSON_POST.body!.replace('héllo', 'hello'));
    const withHash = await signed(JSON_POST);
    expect(withHash.headers['x-amz-content-sha256']).toBeDefined();
    expect(failureCode(verify({ ...withHash, body: tampered }))).toBe('SignatureDoesNotMatch');

    const request = unsignedRequest(JSON_POST);
    const noHash = new SignatureV4({
      service: 'sqs',
      region: 'us-east-1',
      sha256: Sha256,
      applyChecksum: false,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    });
    const withoutHash = onTheWire((await noHash.sign(request, { signingDate: SIGNED_AT })) as HttpRequest);
    expect(withoutHash.headers['x-amz-content-sha256']).toBeUndefined();
    expect(verify(withoutHash).ok).toBe(true);
    expect(failureCode(verify({ ...withoutHash, body: tampered }))).toBe('SignatureDoesNotMatch');
  });

  it('answers SignatureDoesNotMatch for a tampered signed header, path or query', async () => {
    const request = await signed({ ...JSON_POST, path: '/000000000000/jobs', query: { a: '1' } });
    const headers = { ...request.headers, 'x-amz-target': 'AmazonSQS.DeleteQueue' };
    expect(failureCode(verify({ ...request, headers }))).toBe('SignatureDoesNotMatch');
    expect(failureCode(verify({ ...request, path: '/000000000000/other?a=1' }))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(failureCode(verify({ ...request, path: '/000000000000/jobs?a=2' }))).toBe('SignatureDoesNotMatch');
  });

  it("answers RequestExpired for a stale date with AWS's message", async () => {
    const result = verify(await signed(JSON_POST), { now: NOW + 5 * 60_000 + 1000 });
    expect(failureCode(result)).toBe('RequestExpired');
    expect(result.ok ? '' : result.error.message).toBe(
      'Signature expired: 20260115T120000Z is now earlier than 20260115T120001Z (20260115T120501Z - 5 min.)',
    );
  });

  it('answers RequestExpired for a date in the future beyond the skew', async () => {
    const result = verify(await signed(JSON_POST), { now: NOW - 5 * 60_000 - 1000 });
    expect(failureCode(result)).toBe('RequestExpired');
    expect(result.ok ? '' : result.error.message).toMatch(
      /^Signature not yet current: 20260115T120000Z is still later than/,
    );
  });

  it('answers IncompleteSignature for a malformed Authorization header', async () => {
    const request = await signed(JSON_POST);
    const auth = request.headers.authorization as string;
    const malformed = [
      auth.replace(/, Signature=[0-9a-f]+/, ''),
      auth.replace('Credential=', 'Credentials='),
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=Host;X-Amz-Date'),
      auth.replace(/Credential=[^,]+/, 'Credential=AKIDSLUICETEST/20260115/us-east-1'),
      'Bearer abc',
      'AWS4-HMAC-SHA256',
      `${auth}, Signature=0000`,
    ];
    for (const authorization of malformed) {
      const result = verify({ ...request, headers: { ...request.headers, authorization } });
      expect([authorization, failureCode(result)]).toEqual([authorization, 'IncompleteSignature']);
    }
    const { 'x-amz-date': _date, ...noDate } = request.headers;
    expect(failureCode(verify({ ...request, headers: noDate }))).toBe('IncompleteSignature');
  });

  it('answers IncompleteSignature when host is not signed', async () => {
    const request = await signed({ ...JSON_POST, unsignableHeaders: new Set(['host']) });
    expect(request.headers.authorization).not.toMatch(/SignedHeaders=[^,]*host/);
    expect(failureCode(verify(request))).toBe('IncompleteSignature');
  });

  it('answers IncompleteSignature when a session token is present but not signed', async () => {
    const request = await signed(JSON_POST);
    const headers = { ...request.headers, 'x-amz-security-token': 'FwoGZXIvYXdzEXAMPLETOKEN' };
    expect(failureCode(verify({ ...request, headers }))).toBe('IncompleteSignature');
  });

  it('answers SignatureDoesNotMatch when the credential is scoped to another service or region', async () => {
    expect(failureCode(verify(await signed({ ...JSON_POST, service: 'states' })))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(failureCode(verify(await signed(JSON_POST), { region: 'eu-west-1' }))).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('never puts the secret or the session token in a message', async () => {
    const token = 'FwoGZXIvYXdzEXAMPLETOKEN/with+chars=';
    const cases = [
      verify(await signed({ ...JSON_POST, secret: 'other' })),
      verify(await signed({ ...JSON_POST, sessionToken: token, secret: 'other' })),
      verify(await signed(JSON_POST), { now: NOW + 3_600_000 }),
      verify(await signed({ ...JSON_POST, service: 'states' })),
    ];
    for (const result of cases) {
      expect(result.ok).toBe(false);
      const message = result.ok ? '' : result.error.message;
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(token);
      expect(message).not.toContain(encodeURIComponent(token));
    }
  });
});

describe('verifySigV4 with presigned URLs', () => {
  async function presigned(input: SignInput & { expiresIn: number }): Promise<IncomingSignedRequest> {
    const request = await signer(input).presign(unsignedRequest(input), {
      signingDate: input.signingDate ?? SIGNED_AT,
      expiresIn: input.expiresIn,
    });
    return onTheWire(request as HttpRequest);
  }

  it('accepts a presigned GET until it expires', async () => {
    const request = await presigned({
      method: 'GET',
      path: '/000000000000/jobs',
      query: { Action: 'GetQueueAttributes' },
      expiresIn: 60,
    });
    expect(request.headers.authorization).toBeUndefined();
    expect(request.path).toContain('X-Amz-Signature=');
    expect(verify(request).ok).toBe(true);
    expect(verify(request, { now: NOW + 60_000 }).ok).toBe(true);
    const expired = verify(request, { now: NOW + 61_000 });
    expect(failureCode(expired)).toBe('RequestExpired');
  });

  it('covers a session token in the query string', async () => {
    const request = await presigned({ method: 'GET', sessionToken: 'FwoGZXIvYXdzTOKEN', expiresIn: 300 });
    const result = verify(request);
    expect(result.ok && result.sessionToken).toBe('FwoGZXIvYXdzTOKEN');
    expect(
      failureCode(
        verify({ ...request, path: request.path.replace('FwoGZXIvYXdzTOKEN', 'FwoGZXIvYXdzOTHER') }),
      ),
    ).toBe('SignatureDoesNotMatch');
  });

  it('rejects a tampered query parameter, a missing parameter and a date beyond the skew', async () => {
    const request = await presigned({ method: 'GET', query: { QueueName: 'jobs' }, expiresIn: 300 });
    expect(
      failureCode(verify({ ...request, path: request.path.replace('QueueName=jobs', 'QueueName=other') })),
    ).toBe('SignatureDoesNotMatch');
    expect(failureCode(verify({ ...request, path: request.path.replace(/&?X-Amz-Expires=\d+/, '') }))).toBe(
      'IncompleteSignature',
    );
    expect(failureCode(verify(request, { now: NOW - 10 * 60_000 }))).toBe('RequestExpired');
  });

  it('refuses a request carrying both an Authorization header and presigned parameters', async () => {
    const request = await presigned({ method: 'GET', expiresIn: 300 });
    const headers = {
      ...request.headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/20260115/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00`,
    };
    expect(failureCode(verify({ ...request, headers }))).toBe('IncompleteSignature');
  });
});

describe('verifySigV4 against the real SQS client', () => {
  const seen: SigV4Result[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const result = verifySigV4(
        {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks),
        },
        { credentials: lookup, service: 'sqs', now: Date.now() },
      );
      seen.push(result);
      res.writeHead(result.ok ? 200 : 403, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        result.ok
          ? '{"QueueUrls":[]}'
          : JSON.stringify({
              __type: `com.amazonaws.sqs#${result.error.code}`,
              message: result.error.message,
            }),
      );
    });
  });
  let endpoint = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('verifies the signature of a ListQueues call, which then succeeds', async () => {
    const client = new SQSClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
      maxAttempts: 1,
    });
    const output = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'jobs ü/+' }));
    expect(output.QueueUrls).toEqual([]);
    expect(seen.at(-1)).toMatchObject({
      ok: true,
      accessKeyId: ACCESS_KEY,
      region: 'us-east-1',
      payloadSigned: true,
    });
    client.destroy();
  });

  it('rejects the same call made with the wrong secret', async () => {
    const client = new SQSClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    await expect(client.send(new ListQueuesCommand({}))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    client.destroy();
  });
});
