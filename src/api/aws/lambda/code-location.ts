/**
 * GetFunction's `Code.Location`: where the function's zip can be downloaded. Lambda answers a presigned
 * S3 URL valid for 10 minutes; a node answers a URL of its own, `/_sluice/lambda-code/<name>`, signed
 * with an HMAC key kept in the store (catalog `secret` entry, made by the first node that needs it), so
 * any node of the cluster serves a URL another gave, until it expires, and bound to the package's
 * SHA-256: a URL given before UpdateFunctionCode serves nothing afterwards. The key is read at each
 * GetFunction and download (one small catalog read beside the store reads they make anyway), not at
 * start: an idle node reads nothing, and a rotation made through any node is used at once by every node.
 * The key rotates (`sluice functions rotate-code-key`, or by itself once older than `maxAgeMs`, 30 days
 * by default): a URL signed with the key before stays valid until it expires (catalog/signing-keys.ts).
 * The download route is outside the SigV4 scope, as a presigned URL needs no credentials beyond itself;
 * the zip comes from the store (the catalog entry's attachment).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CatalogService } from '../../../catalog/service.js';
import type { SigningKeys } from '../../../catalog/signing-keys.js';

/** How long a Location stays valid, as Lambda's presigned URLs (10 minutes). */
const VALID_SECONDS = 600;
/**
 * A retired key's URLs expire at most VALID_SECONDS after its retirement; this much more is allowed for
 * a node that read the key just before a rotation and signed just after, and for clocks apart.
 */
const RETIREMENT_SKEW_SECONDS = 60;
const PATH = '/_sluice/lambda-code';

export { CODE_KEY_SECRET } from '../../../catalog/signing-keys.js';

/** The default age at which a node rotates the key before signing with it (30 days). */
export const CODE_KEY_MAX_AGE_MS = 30 * 24 * 3600_000;

export class CodeLocations {
  private keys: SigningKeys | undefined;

  /** `loadKeys`: the cluster's signing keys, rotated when too old (CatalogService.signingKeys). */
  constructor(
    private readonly nowMs: () => number,
    private readonly loadKeys: () => Promise<SigningKeys>,
  ) {}

  /** Reads the cluster's keys as they are now; url() and valid() need them. */
  async ready(): Promise<void> {
    this.keys = await this.loadKeys();
  }

  /** A signed download URL for the package `sha256Hex` of function `name`, on the node at `base`. */
  url(base: string, name: string, sha256Hex: string): string {
    const expires = Math.floor(this.nowMs() / 1000) + VALID_SECONDS;
    const query = new URLSearchParams({ sha256: sha256Hex, expires: String(expires), signature: this.sign(name, sha256Hex, expires) });
    return `${base}${PATH}/${encodeURIComponent(name)}?${query.toString()}`;
  }

  /**
   * Whether a download request carries the cluster's signature for that package, unexpired: made with
   * the current key, or with a retired one before its retirement (its expiry no later than the
   * retirement's plus a URL's validity).
   */
  valid(name: string, sha256Hex: string, expires: number, signature: string): boolean {
    if (!Number.isInteger(expires) || expires < Math.floor(this.nowMs() / 1000)) return false;
    if (!this.keys) throw new Error('CodeLocations: ready() was not awaited');
    const given = Buffer.from(signature, 'hex');
    const signedWith = (key: Buffer) => {
      const expected = Buffer.from(this.sign(name, sha256Hex, expires, key), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    };
    if (signedWith(this.keys.current)) return true;
    return this.keys.previous.some((retired) => expires <= Math.floor(retired.retiredAt / 1000) + VALID_SECONDS + RETIREMENT_SKEW_SECONDS && signedWith(retired.key));
  }

  private sign(name: string, sha256Hex: string, expires: number, key = this.keys?.current): string {
    if (!key) throw new Error('CodeLocations: ready() was not awaited');
    return createHmac('sha256', key).update(`${name}\n${sha256Hex}\n${expires}`).digest('hex');
  }
}

/** Serves a function's zip to a request with a valid signed URL; anything else is a 403 or a 404, as S3's. */
export function registerCodeDownload(app: FastifyInstance, params: { locations: CodeLocations; catalog: CatalogService }): void {
  app.get(`${PATH}/:name`, async (request, reply) => {
    const name = (request.params as { name: string }).name;
    const query = request.query as Record<string, string | undefined>;
    const sha = query.sha256 ?? '';
    await params.locations.ready();
    if (!params.locations.valid(name, sha, Number(query.expires), query.signature ?? '')) {
      return reply.code(403).type('text/plain').send('Request has expired or its signature does not match');
    }
    const zip = await params.catalog.codePackage(name);
    if (!zip || zip.sha256 !== sha) return reply.code(404).type('text/plain').send('The code package no longer exists');
    return reply.type('application/zip').header('content-length', zip.content.length).send(zip.content);
  });
}
