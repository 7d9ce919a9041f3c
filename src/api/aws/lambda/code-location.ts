/**
 * GetFunction's `Code.Location`: where the function's zip can be downloaded. Lambda answers a presigned
 * S3 URL valid for 10 minutes; a node answers a URL of its own, `/_sluice/lambda-code/<name>`, signed
 * with an HMAC key kept in the store (catalog `secret` entry, made by the first node that needs it), so
 * any node of the cluster serves a URL another gave, until it expires, and bound to the package's
 * SHA-256: a URL given before UpdateFunctionCode serves nothing afterwards. The key is read at the first
 * GetFunction or download, not at start: an idle node reads nothing. The download route is outside the SigV4 scope, as a presigned URL needs no
 * credentials beyond itself; the zip comes from the store (the catalog entry's attachment).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CatalogService } from '../../../catalog/service.js';

/** How long a Location stays valid, as Lambda's presigned URLs (10 minutes). */
const VALID_SECONDS = 600;
const PATH = '/_sluice/lambda-code';

export class CodeLocations {
  private key: Buffer | undefined;
  private loading: Promise<Buffer> | undefined;

  /** `loadKey`: the cluster's signing key (CatalogService.sharedSecret). */
  constructor(
    private readonly nowMs: () => number,
    private readonly loadKey: () => Promise<Buffer>,
  ) {}

  /** Reads the cluster's key once; url() and valid() need it. */
  async ready(): Promise<void> {
    if (this.key) return;
    this.loading ??= this.loadKey().finally(() => (this.loading = undefined));
    this.key = await this.loading;
  }

  /** A signed download URL for the package `sha256Hex` of function `name`, on the node at `base`. */
  url(base: string, name: string, sha256Hex: string): string {
    const expires = Math.floor(this.nowMs() / 1000) + VALID_SECONDS;
    const query = new URLSearchParams({ sha256: sha256Hex, expires: String(expires), signature: this.sign(name, sha256Hex, expires) });
    return `${base}${PATH}/${encodeURIComponent(name)}?${query.toString()}`;
  }

  /** Whether a download request carries this process's signature for that package, unexpired. */
  valid(name: string, sha256Hex: string, expires: number, signature: string): boolean {
    if (!Number.isInteger(expires) || expires < Math.floor(this.nowMs() / 1000)) return false;
    const expected = Buffer.from(this.sign(name, sha256Hex, expires), 'hex');
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(name: string, sha256Hex: string, expires: number): string {
    if (!this.key) throw new Error('CodeLocations: ready() was not awaited');
    return createHmac('sha256', this.key).update(`${name}\n${sha256Hex}\n${expires}`).digest('hex');
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
