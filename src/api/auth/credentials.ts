/**
 * Who may talk to a node: AWS access keys (checked as SigV4 signatures on the AWS-protocol endpoints)
 * and bearer tokens (the native API). Both come from the environment (`SLUICE_ACCESS_KEYS`,
 * `SLUICE_TOKENS`) or the config file, merged. Secrets live only in these maps: they are never logged,
 * never echoed in an error, and `describeAuth` reports counts and key ids only.
 */
import { SluiceError } from '../../model/errors.js';

export interface AuthSettings {
  /** Access key id → secret access key. */
  accessKeys: ReadonlyMap<string, string>;
  tokens: readonly string[];
  /** Accept every request unauthenticated. Only ever set by an explicit development flag. */
  insecureDev: boolean;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Tokens shorter than this are refused: a guessable token is no protection. */
export const MIN_TOKEN_LENGTH = 16;
const ACCESS_KEY_ID = /^[A-Za-z0-9_-]{3,128}$/;

function invalidCredential(field: string, rule: string): SluiceError {
  return new SluiceError('InvalidParameterValue', `${field}: ${rule}`, { field });
}

/** Parses `AKID:SECRET,AKID2:SECRET2`. The error names the entry by position, never by its secret. */
export function parseAccessKeys(text: string, source: string): AccessKey[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index) => {
      const colon = entry.indexOf(':');
      const accessKeyId = colon < 0 ? entry : entry.slice(0, colon);
      const secretAccessKey = colon < 0 ? '' : entry.slice(colon + 1);
      return validateAccessKey({ accessKeyId, secretAccessKey }, `${source}[${index}]`);
    });
}

export function validateAccessKey(key: AccessKey, field: string): AccessKey {
  if (!ACCESS_KEY_ID.test(key.accessKeyId)) {
    throw invalidCredential(`${field}.accessKeyId`, "must be 3-128 letters, digits, '-' or '_' (written as ACCESS_KEY_ID:SECRET)");
  }
  if (key.secretAccessKey.length < 8 || /\s/.test(key.secretAccessKey)) {
    throw invalidCredential(`${field}.secretAccessKey`, 'must be at least 8 characters without spaces');
  }
  return key;
}

export function parseTokens(text: string, source: string): string[] {
  return text
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '')
    .map((token, index) => validateToken(token, `${source}[${index}]`));
}

export function validateToken(token: string, field: string): string {
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw invalidCredential(field, `a token must be at least ${MIN_TOKEN_LENGTH} characters without spaces`);
  }
  return token;
}

/** Merges credentials from the environment and the config file into the node's settings. */
export function buildAuthSettings(params: {
  env: NodeJS.ProcessEnv;
  configAccessKeys?: readonly AccessKey[];
  configTokens?: readonly string[];
  insecureDev: boolean;
}): AuthSettings {
  const keys = [
    ...(params.configAccessKeys ?? []).map((key, index) => validateAccessKey(key, `auth.accessKeys[${index}]`)),
    ...parseAccessKeys(params.env.SLUICE_ACCESS_KEYS ?? '', 'SLUICE_ACCESS_KEYS'),
  ];
  const tokens = [
    ...(params.configTokens ?? []).map((token, index) => validateToken(token, `auth.tokens[${index}]`)),
    ...parseTokens(params.env.SLUICE_TOKENS ?? '', 'SLUICE_TOKENS'),
  ];
  return {
    accessKeys: new Map(keys.map((key) => [key.accessKeyId, key.secretAccessKey])),
    tokens: [...new Set(tokens)],
    insecureDev: params.insecureDev,
  };
}

/** A summary safe to log: how many credentials, and access key ids (which are not secret). */
export function describeAuth(auth: AuthSettings): string {
  if (auth.insecureDev) return 'INSECURE development mode: every request is accepted without credentials';
  const ids = [...auth.accessKeys.keys()];
  return `${ids.length} access key(s)${ids.length ? ` (${ids.join(', ')})` : ''} for the AWS endpoints, ${auth.tokens.length} bearer token(s) for the native API`;
}
