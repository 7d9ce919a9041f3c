/**
 * The CLI's way to a node: the native JSON API over HTTP, with a bearer token. Every CLI command but
 * `start` and `init` goes through here, so the CLI works the same against a local or a remote node and
 * never opens a store a running node holds.
 */
import { SluiceError, errorCatalog, type ErrorCode } from '../model/errors.js';

export interface ClientOptions {
  endpoint: string;
  token: string | undefined;
}

export class NodeClient {
  constructor(private readonly options: ClientOptions) {}

  get endpoint(): string {
    return this.options.endpoint;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(new URL(path, this.options.endpoint), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new SluiceError(
        'ServiceUnavailable',
        `cannot reach a Sluice node at ${this.options.endpoint} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}); ` +
          'is `sluice start` running? Point the CLI elsewhere with --endpoint or SLUICE_ENDPOINT.',
        { cause: error },
      );
    }
    const text = await response.text();
    if (response.ok) return (text === '' ? undefined : (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as T;
    throw errorFromResponse(response.status, text);
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}

function errorFromResponse(status: number, text: string): SluiceError {
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string; field?: string } };
    const code = (error.code in errorCatalog ? error.code : 'InternalFailure') as ErrorCode;
    return new SluiceError(code, error.message, error.field ? { field: error.field } : {});
  } catch {
    return new SluiceError(status >= 500 ? 'InternalFailure' : 'ValidationException', `HTTP ${status}: ${text.slice(0, 200)}`);
  }
}

/** Path segment for a name in a URL. */
export const segment = (value: string) => encodeURIComponent(value);
