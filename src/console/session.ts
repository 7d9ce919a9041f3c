/**
 * Console sign-in: a person posts one of the node's bearer tokens to /console/login and gets a session,
 * an HttpOnly, SameSite=Strict cookie naming a random id; the token itself is never stored in the
 * browser or put in a URL. Each session has its own CSRF token, given to the page in a meta tag and
 * required (header `x-csrf-token`) on every request that changes something. Sessions live in this
 * node's memory: a restart or another node asks to sign in again. A session ends after 12 hours, at
 * sign-out, or when the token it was opened with is no longer configured (checked on each request).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'sluice_console';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 1000;

export interface ConsoleSession {
  id: string;
  csrf: string;
  expiresAt: number;
  /** SHA-256 of the token used to sign in, to end the session when the token is removed. */
  tokenDigest: Buffer;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(private readonly tokens: () => readonly string[]) {}

  /** Opens a session when `token` is one of the node's tokens; undefined otherwise. */
  signIn(token: string, now = Date.now()): ConsoleSession | undefined {
    const presented = digest(token);
    let accepted = false;
    for (const configured of this.tokens())
      accepted = timingSafeEqual(presented, digest(configured)) || accepted;
    if (!accepted) return undefined;
    this.sweep(now);
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: now + SESSION_TTL_MS,
      tokenDigest: presented,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** A session without a token: only for a node in --insecure-dev mode, which accepts every request. */
  openUnchecked(now = Date.now()): ConsoleSession {
    return {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: now + 100 * 365 * 86_400_000,
      tokenDigest: Buffer.alloc(32),
    };
  }

  /** The session named by the cookie, if it is still valid. */
  find(id: string | undefined, now = Date.now()): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const tokenStillValid = this.tokens().some((token) =>
      timingSafeEqual(session.tokenDigest, digest(token)),
    );
    if (session.expiresAt <= now || !tokenStillValid) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  signOut(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private sweep(now: number): void {
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
    // The oldest go first when someone signs in again and again.
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}

/** The value of one cookie of a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return [
    `${SESSION_COOKIE}=${id}`,
    'Path=/console',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

export const SESSION_MAX_AGE_SECONDS = SESSION_TTL_MS / 1000;
