/**
 * The store keys a task token's callback by the SHA-256 of the token, in hex: whoever can read the
 * database still cannot answer for a task. Shared by callbacks/token.ts (which also checks the token's
 * form) and the stores that find a callback from a token they hold (an activity task's claim); PostgreSQL's
 * claim computes the same in SQL (`encode(sha256(convert_to(token, 'UTF8')), 'hex')`).
 */
import { createHash } from 'node:crypto';

export function callbackIdOfToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
