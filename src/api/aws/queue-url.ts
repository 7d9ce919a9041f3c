/**
 * Queue URLs shaped like SQS's: `http://<host>:<port>/<accountId>/<queueName>`. The host is the one the
 * client used to reach the node (or the node's configured public URL), because SDKs send later calls to
 * whatever host a queue URL names.
 */
import { SluiceError } from '../../model/errors.js';

export function queueUrl(base: string, accountId: string, queueName: string): string {
  return `${base.replace(/\/+$/, '')}/${accountId}/${queueName}`;
}

/**
 * The queue name a QueueUrl designates. Accepts a full URL or its path (`/<accountId>/<name>`); the
 * host is not checked (clients reach one node as localhost, 127.0.0.1 or a service name alike). An
 * account id other than the node's names a queue that does not exist here.
 */
export function queueNameFromUrl(url: unknown, accountId: string, field = 'QueueUrl'): string {
  if (typeof url !== 'string' || url === '') {
    throw new SluiceError('MissingParameter', `${field}: the request must contain the parameter ${field}`, { field });
  }
  let path = url;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      path = new URL(url).pathname;
    } catch {
      throw new SluiceError('QueueDoesNotExist', `${field}: '${url.slice(0, 200)}' is not a valid queue URL`, { field });
    }
  }
  const segments = path.split('/').filter((segment) => segment !== '');
  const [account, name] = segments;
  if (segments.length !== 2 || account !== accountId || !name) {
    throw new SluiceError(
      'QueueDoesNotExist',
      `${field}: '${url.slice(0, 200)}' does not name a queue of this node (expected http://<host>/${accountId}/<queueName>)`,
      { field },
    );
  }
  try {
    return decodeURIComponent(name);
  } catch {
    throw new SluiceError('QueueDoesNotExist', `${field}: '${url.slice(0, 200)}' has a malformed escape`, { field });
  }
}
