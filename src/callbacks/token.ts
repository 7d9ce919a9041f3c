/**
 * Task tokens: `SLT1` followed by 32 random bytes in base64url (47 characters), so unguessable. The
 * store keys a callback by the SHA-256 of its token: whoever can read the database still cannot answer
 * for a task. A string that is not of this form is malformed (InvalidToken); a well-formed token the
 * store does not know is TaskDoesNotExist.
 */
import { randomBytes } from 'node:crypto';
import { SluiceError } from '../model/errors.js';
import { callbackIdOfToken } from '../store/rules/callback-id.js';

const TOKEN_FORM = /^SLT1[A-Za-z0-9_-]{43}$/;

export function newTaskToken(): string {
  return `SLT1${randomBytes(32).toString('base64url')}`;
}

/** The callback id of a token, or InvalidToken when it is malformed. */
export function callbackIdOf(token: unknown, field = 'taskToken'): string {
  if (typeof token !== 'string' || !TOKEN_FORM.test(token)) {
    const shown =
      typeof token === 'string'
        ? `'${token.length > 40 ? `${token.slice(0, 40)}...` : token}'`
        : JSON.stringify(token);
    throw new SluiceError('InvalidToken', `${field}: ${shown} is not a task token issued by Sluice`, {
      field,
    });
  }
  return callbackIdOfToken(token);
}
