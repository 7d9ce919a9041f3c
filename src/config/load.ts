/**
 * Finds and reads the config file: `sluice.config.ts` (also .mts, .js, .mjs, .json, .yaml, .yml).
 * TypeScript goes through tsx's scoped `tsImport`, so a config can import its handlers' types and
 * compute values from the environment. A module's default export is the config, or a function
 * (possibly async) returning it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { SluiceError } from '../model/errors.js';
import { validateConfig, type SluiceConfig } from './schema.js';

export const CONFIG_FILE_NAMES = [
  'sluice.config.ts',
  'sluice.config.mts',
  'sluice.config.js',
  'sluice.config.mjs',
  'sluice.config.json',
  'sluice.config.yaml',
  'sluice.config.yml',
];

export interface LoadedConfig {
  config: SluiceConfig;
  /** The file it came from, absolute. */
  path: string;
  /** Where relative handler paths start: the file's directory. */
  baseDir: string;
}

export function findConfigFile(dir: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => resolve(dir, name)).find((path) => existsSync(path));
}

async function readModule(path: string): Promise<unknown> {
  const url = pathToFileURL(path).href;
  const module = /\.(ts|mts|cts)$/.test(path)
    ? ((await (await import('tsx/esm/api')).tsImport(url, import.meta.url)) as Record<string, unknown>)
    : ((await import(url)) as Record<string, unknown>);
  // A CommonJS module (or a .ts file outside an ESM package) may nest its exports under `default` twice.
  let value: unknown = module.default ?? module;
  if (value && typeof value === 'object' && 'default' in value && Object.keys(value).length === 1) value = (value as { default: unknown }).default;
  return typeof value === 'function' ? await (value as () => unknown)() : value;
}

function readData(path: string, extension: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SluiceError('SerializationException', `Config ${path}: ${(error as Error).message}`, { cause: error });
  }
}

export async function loadConfigFile(file: string): Promise<LoadedConfig> {
  const path = resolve(file);
  if (!existsSync(path)) throw new SluiceError('InvalidParameterValue', `--config: the file ${path} does not exist`, { field: 'config' });
  const extension = extname(path);
  let raw: unknown;
  if (extension === '.json' || extension === '.yaml' || extension === '.yml') {
    raw = readData(path, extension);
  } else if (['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'].includes(extension)) {
    try {
      raw = await readModule(path);
    } catch (error) {
      throw new SluiceError('SerializationException', `Config ${path} failed to load: ${(error as Error).message}`, { cause: error });
    }
  } else {
    throw new SluiceError('InvalidParameterValue', `--config: ${path} must end in .ts, .mts, .js, .mjs, .json, .yaml or .yml`, { field: 'config' });
  }
  return { config: validateConfig(raw, path), path, baseDir: dirname(path) };
}
