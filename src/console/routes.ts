/**
 * The web console at /console: a sign-in page, one application page (Preact + htm, uPlot charts; plain
 * ES modules shipped as they are, no build step), its JSON API and a server-sent-event stream.
 *
 * Security:
 * - every page and API call but the sign-in page and the static assets needs a session (session.ts); a
 *   page without one is sent to the sign-in page, an API call is refused;
 * - every request that changes something (any method but GET and HEAD) needs the session's CSRF token
 *   in `x-csrf-token`, and an Origin, when the browser sends one, naming this node;
 * - every response carries a strict Content-Security-Policy (scripts, styles and connections from this
 *   origin only: no inline script or style, no eval, no framing), nosniff, and a referrer only to itself.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthSettings } from '../api/auth/credentials.js';
import type { NativeContext, NativeRouteModule } from '../api/native/route-module.js';
import type { Sluice } from '../engine/sluice.js';
import { SluiceError } from '../model/errors.js';
import { registerConsoleApi } from './api.js';
import type { ConsoleLive } from './live.js';
import {
  ConsoleSessions,
  cookieValue,
  SESSION_COOKIE,
  SESSION_MAX_AGE_SECONDS,
  sameSecret,
  sessionCookie,
  type ConsoleSession,
} from './session.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsoleOptions {
  sluice: Sluice;
  auth: AuthSettings;
  live: ConsoleLive;
  nativeModules: readonly NativeRouteModule[];
  nativeContext: NativeContext;
}

const assetsDir = join(dirname(fileURLToPath(import.meta.url)), 'assets');
const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** Files of the prebuilt libraries the console imports, by the name the console's modules use. */
const vendor: Record<string, { path: () => string; type: string; rewrite?: (text: string) => string }> = {
  'preact.js': { path: () => join(packageDir('preact'), 'dist/preact.mjs'), type: 'text/javascript' },
  // hooks import 'preact' by its bare name, which a browser without an import map cannot resolve.
  'hooks.js': {
    path: () => join(packageDir('preact'), 'hooks/dist/hooks.mjs'),
    type: 'text/javascript',
    rewrite: (text) => text.replace(/from\s*"preact"/g, 'from"./preact.js"'),
  },
  // htm exports no package.json; its CommonJS entry sits beside the ES module.
  'htm.js': { path: () => join(dirname(require.resolve('htm')), 'htm.module.js'), type: 'text/javascript' },
  'uplot.js': { path: () => join(packageDir('uplot'), 'dist/uPlot.esm.js'), type: 'text/javascript' },
  'uplot.css': { path: () => join(packageDir('uplot'), 'dist/uPlot.min.css'), type: 'text/css' },
};
const ownTypes: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin') // not no-referrer: Chromium then sends `Origin: null` on the sign-in form
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin');
}

function loginPage(failed: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Sluice console</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/console/assets/console.css"></head>
<body class="login"><main class="login-box">
<h1>Sluice</h1>
<p>Sign in with one of the node's bearer tokens (<code>SLUICE_TOKENS</code> or <code>auth.tokens</code>).</p>
${failed ? '<p class="error" role="alert">That token is not valid.</p>' : ''}
<form method="post" action="/console/login">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form></main></body></html>`;
}

function appPage(session: ConsoleSession): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeHtml(session.csrf)}">
<title>Sluice console</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/vendor/uplot.css"><link rel="stylesheet" href="/console/assets/console.css">
<script type="module" src="/console/assets/app.js"></script></head>
<body><div id="app"><p class="loading">Loading…</p></div></body></html>`;
}

function isSecure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

/** An Origin header, when present, must name the host the request was sent to. */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export async function registerConsole(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const { auth } = options;
  const sessions = new ConsoleSessions(() => auth.tokens);
  // --insecure-dev accepts every request without credentials; the console follows (one shared session).
  const devSession: ConsoleSession | undefined = auth.insecureDev ? sessions.openUnchecked() : undefined;
  const cache = new Map<string, { body: Buffer; type: string }>();

  const sessionOf = (request: FastifyRequest) =>
    devSession ?? sessions.find(cookieValue(request.headers.cookie, SESSION_COOKIE));

  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        const config = route.config as object;
        route.config = { ...config, protocol: 'native' } as NonNullable<typeof route.config>;
      });
      scope.addHook('onRequest', (_request, reply, done) => {
        securityHeaders(reply);
        done();
      });

      scope.get('/login', (request, reply) => {
        const failed = (request.query as Record<string, string | undefined>).failed !== undefined;
        return reply
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(loginPage(failed));
      });
      scope.post('/login', (request, reply) => {
        if (!sameOrigin(request))
          throw new SluiceError('AccessDenied', 'Origin: the sign-in form must be posted from this node');
        const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
        const token = new URLSearchParams(body).get('token') ?? '';
        const session = token ? sessions.signIn(token) : undefined;
        request.log.info(
          { console: 'sign-in', accepted: Boolean(session) },
          session ? 'console: signed in' : 'console: sign-in refused',
        );
        if (!session) return reply.code(303).header('location', '/console/login?failed').send();
        return reply
          .code(303)
          .header(
            'set-cookie',
            sessionCookie(session.id, { secure: isSecure(request), maxAgeSeconds: SESSION_MAX_AGE_SECONDS }),
          )
          .header('location', '/console/')
          .send();
      });

      scope.get('/assets/*', async (request, reply) => {
        const file = param(request, '*');
        const asset = await loadAsset(file, cache);
        if (!asset) throw new SluiceError('ResourceNotFoundException', `${file}: no such console asset`);
        return reply.header('cache-control', 'no-cache').type(asset.type).send(asset.body);
      });

      // Everything else needs a session, and a CSRF token for anything that changes state.
      await scope.register(async (guarded) => {
        guarded.decorateRequest('consoleSession', null);
        guarded.addHook('onRequest', (request, reply, done) => {
          const session = sessionOf(request);
          const isPage = request.method === 'GET' && !request.url.startsWith('/console/api/');
          if (!session) {
            if (isPage) {
              void reply.code(303).header('location', '/console/login').send();
              return;
            }
            return done(
              new SluiceError(
                'MissingAuthenticationToken',
                'console: sign in at /console/login first (no valid session cookie)',
              ),
            );
          }
          if (request.method !== 'GET' && request.method !== 'HEAD') {
            const presented = request.headers['x-csrf-token'];
            if (typeof presented !== 'string' || !sameSecret(presented, session.csrf) || !sameOrigin(request))
              return done(
                new SluiceError(
                  'AccessDenied',
                  "console: this action needs the page's CSRF token (x-csrf-token) and must come from this node's origin",
                ),
              );
          }
          (request as FastifyRequest & { consoleSession: ConsoleSession }).consoleSession = session;
          done();
        });

        guarded.get('/', (request, reply) => {
          const session = (request as FastifyRequest & { consoleSession: ConsoleSession }).consoleSession;
          return reply
            .header('cache-control', 'no-store')
            .type('text/html; charset=utf-8')
            .send(appPage(session));
        });
        guarded.post('/logout', (request, reply) => {
          sessions.signOut(cookieValue(request.headers.cookie, SESSION_COOKIE));
          return reply
            .code(204)
            .header('set-cookie', sessionCookie('', { secure: isSecure(request), maxAgeSeconds: 0 }))
            .send();
        });
        await guarded.register(
          async (api) => {
            api.addHook('onSend', (_request, reply, payload, done) => {
              reply.header('cache-control', 'no-store');
              done(null, payload);
            });
            registerConsoleApi(api, { sluice: options.sluice, live: options.live });
            await api.register(
              async (native) => {
                for (const module of options.nativeModules) module.register(native, options.nativeContext);
              },
              { prefix: '/v1' },
            );
          },
          { prefix: '/api' },
        );
      });
    },
    { prefix: '/console' },
  );
}

function param(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}

async function loadAsset(
  file: string,
  cache: Map<string, { body: Buffer; type: string }>,
): Promise<{ body: Buffer; type: string } | undefined> {
  const cached = cache.get(file);
  if (cached) return cached;
  let asset: { body: Buffer; type: string } | undefined;
  if (file.startsWith('vendor/')) {
    const entry = vendor[file.slice('vendor/'.length)];
    if (!entry) return undefined;
    const text = await readFile(entry.path(), 'utf8');
    asset = {
      body: Buffer.from(entry.rewrite ? entry.rewrite(text) : text),
      type: `${entry.type}; charset=utf-8`,
    };
  } else {
    // Our own files: a flat folder of names, nothing else is reachable.
    if (!/^[a-z0-9-]+\.(js|css|svg)$/.test(file)) return undefined;
    const body = await readFile(join(assetsDir, file)).catch(() => undefined);
    if (!body) return undefined;
    asset = { body, type: `${ownTypes[file.slice(file.lastIndexOf('.'))]}; charset=utf-8` };
  }
  cache.set(file, asset);
  return asset;
}
