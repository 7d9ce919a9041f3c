/**
 * A function's code package, the zip CreateFunction and UpdateFunctionCode upload: checked against
 * Lambda's limits before anything is stored, and extracted on each node into a node-local cache keyed
 * by its SHA-256, from which the handler is loaded. A new package is a new directory, so a module
 * already imported from the old one (the in-process module cache) is never mistaken for the new code.
 *
 * The zip is read with fflate; the sizes its directory declares are checked before anything is
 * inflated (a small zip may declare gigabytes), and the inflated sizes again after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { unzipSync, type Unzipped } from 'fflate';
import { SluiceError } from '../model/errors.js';

/** Lambda's quotas (AccountLimit): a zip uploaded directly, and its content once extracted. */
export const codePackageLimits = {
  zippedBytes: 52_428_800,
  unzippedBytes: 262_144_000,
  /** The largest CreateFunction or UpdateFunctionCode request: the zip limit in base64, in JSON. */
  requestBytes: 69_905_067,
} as const;

/** The extensions Lambda's Node.js runtime tries, in its order, for a handler's module. */
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;

export interface CodePackage {
  /** Hex SHA-256 of the zip (the cache directory's name). */
  sha256Hex: string;
  /** Lambda's CodeSha256: the same digest in base64. */
  codeSha256: string;
  /** Lambda's CodeSize: the zip's size in bytes. */
  codeSize: number;
  /** Each file's path inside the zip (no directories). */
  files: string[];
}

/** A Lambda handler string, `dir/file.export`: the module path without extension, and the export. */
export interface HandlerName {
  module: string;
  exportName: string;
}

/** `index.handler`, `src/app.main`: the module is up to the first dot after the last slash (Lambda's rule). */
export function parseHandlerName(handler: string): HandlerName {
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  const module = dot === -1 ? '' : handler.slice(0, dot);
  const exportName = dot === -1 ? '' : handler.slice(dot + 1);
  if (module.length === 0 || exportName.length === 0 || module.endsWith('/')) {
    throw new SluiceError('InvalidParameterValue', `Handler: '${handler}' is not a Node.js handler; write file.export, such as index.handler (the file index.js, index.mjs or index.cjs)`, {
      field: 'Handler',
    });
  }
  return { module, exportName };
}

function unzipFailure(detail: string): SluiceError {
  return new SluiceError('InvalidParameterValue', `Could not unzip uploaded file. Please check your file, then try to upload again. (${detail})`, { field: 'ZipFile' });
}

/** A path that stays inside the extraction directory: relative, without `..` segments. */
function safePath(name: string): boolean {
  if (name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name)) return false;
  return !posix.normalize(name).split('/').includes('..');
}

/** Unzips in memory, refusing a package whose declared or actual content is over Lambda's unzipped limit. */
function unzipChecked(zip: Buffer): Unzipped {
  let declared = 0;
  let files: Unzipped;
  try {
    files = unzipSync(zip, {
      filter: (file) => {
        if (!safePath(file.name)) throw unzipFailure(`the entry '${file.name.slice(0, 200)}' leaves the package's directory`);
        declared += file.originalSize;
        if (declared > codePackageLimits.unzippedBytes) throw tooLargeUnzipped();
        return true;
      },
    });
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw unzipFailure((error as Error).message);
  }
  const actual = Object.values(files).reduce((sum, content) => sum + content.length, 0);
  if (actual > codePackageLimits.unzippedBytes) throw tooLargeUnzipped();
  return files;
}

function tooLargeUnzipped(): SluiceError {
  return new SluiceError('InvalidParameterValue', `Unzipped size must be smaller than ${codePackageLimits.unzippedBytes} bytes`, { field: 'ZipFile' });
}

/** The ZipFile member as the SDK and the CLI send it: base64 text. */
export function decodeZipFile(value: unknown, operation: 'CreateFunction' | 'UpdateFunctionCode'): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SluiceError('InvalidParameterValue', 'ZipFile: the code package is required, as a base64 zip', { field: 'ZipFile' });
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new SluiceError('SerializationException', 'ZipFile: the value is not base64', { field: 'ZipFile' });
  }
  const zip = Buffer.from(value, 'base64');
  if (zip.length > codePackageLimits.zippedBytes) throw tooLargeZip(operation);
  return zip;
}

/** Lambda's refusal of a request (or a zip in it) over the direct upload's limit. */
export function tooLargeZip(operation: 'CreateFunction' | 'UpdateFunctionCode'): SluiceError {
  return new SluiceError('RequestEntityTooLargeException', `Request must be smaller than ${codePackageLimits.requestBytes} bytes for the ${operation} operation`, { field: 'ZipFile' });
}

/** Checks a zip (format, sizes, paths) and returns what Lambda reports of it. Stores nothing. */
export function inspectCodePackage(zip: Buffer, operation: 'CreateFunction' | 'UpdateFunctionCode' = 'CreateFunction'): CodePackage {
  if (zip.length > codePackageLimits.zippedBytes) throw tooLargeZip(operation);
  const files = Object.keys(unzipChecked(zip)).filter((name) => !name.endsWith('/'));
  const digest = createHash('sha256').update(zip).digest();
  return { sha256Hex: digest.toString('hex'), codeSha256: digest.toString('base64'), codeSize: zip.length, files };
}

/** The file a handler names in a package's file list (`.js`, then `.mjs`, then `.cjs`), or undefined. */
export function handlerFile(files: readonly string[], handler: string): string | undefined {
  const { module } = parseHandlerName(handler);
  const present = new Set(files.map((name) => posix.normalize(name)));
  return MODULE_EXTENSIONS.map((extension) => posix.normalize(module + extension)).find((candidate) => present.has(candidate));
}

/** Refuses a handler whose file is not in the package, naming the files tried. */
export function requireHandlerFile(files: readonly string[], handler: string): string {
  const file = handlerFile(files, handler);
  if (file !== undefined) return file;
  const { module } = parseHandlerName(handler);
  throw new SluiceError(
    'InvalidParameterValue',
    `Handler: '${handler}' names the module ${module}, but the code package has none of ${MODULE_EXTENSIONS.map((extension) => module + extension).join(', ')}`,
    { field: 'Handler' },
  );
}

/** The default root of the node-local package cache (one directory per user). */
export function defaultCodeCacheDir(): string {
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(tmpdir(), `sluice-code-${user}`);
}

/**
 * Extracts a package into `<root>/<sha256Hex>/` once and returns that directory. The files are
 * written to a private directory and renamed into place, so a reader (another engine, another process
 * on this machine) sees the whole package or none; the marker file says a directory is complete.
 */
export async function extractCodePackage(root: string, sha256Hex: string, zip: Buffer): Promise<string> {
  const target = join(root, sha256Hex);
  const marker = join(target, '.sluice-complete');
  if (existsSync(marker)) return target;
  const actual = createHash('sha256').update(zip).digest('hex');
  if (actual !== sha256Hex) throw new Error(`the stored code package's SHA-256 is ${actual}, not ${sha256Hex}`);
  const staging = join(root, `.staging-${randomBytes(8).toString('hex')}`);
  try {
    for (const [name, content] of Object.entries(unzipChecked(zip))) {
      const path = join(staging, name);
      if (name.endsWith('/')) {
        await mkdir(path, { recursive: true });
        continue;
      }
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, '.sluice-complete'), '');
    if (existsSync(marker)) return target; // another extractor finished meanwhile
    await rm(target, { recursive: true, force: true }); // a copy left half-written by a crash
    await rename(staging, target).catch((error: unknown) => {
      // Another extractor renamed its copy first: theirs is the same bytes.
      if (!existsSync(marker)) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return target;
}
