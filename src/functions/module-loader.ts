/**
 * Loads a handler named by module path. TypeScript modules go through tsx; the error a failed load
 * produces is the one Lambda's runtime reports (ImportModuleError, UserCodeSyntaxError, HandlerNotFound).
 */
import { needsTypeScriptLoader } from './definition.js';
import type { FunctionHandler, LambdaErrorPayload, ModuleHandler } from './types.js';

export class HandlerLoadError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(payload.errorMessage);
    this.name = payload.errorType;
  }
}

/**
 * Imports the module and returns its export. A TypeScript module goes through tsx's scoped `tsImport`,
 * which handles both module systems (a `.ts` file outside a `"type": "module"` package is CommonJS to
 * Node) without registering tsx for the whole thread.
 */
export async function importHandler(handler: ModuleHandler): Promise<FunctionHandler<never, unknown>> {
  let module: Record<string, unknown>;
  try {
    if (needsTypeScriptLoader(handler)) {
      const { tsImport } = await import('tsx/esm/api');
      module = (await tsImport(handler.moduleUrl, import.meta.url)) as Record<string, unknown>;
    } else {
      module = (await import(handler.moduleUrl)) as Record<string, unknown>;
    }
  } catch (error) {
    const syntax = error instanceof SyntaxError || (error as { name?: string })?.name === 'TransformError';
    throw new HandlerLoadError({
      errorType: syntax ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError',
      errorMessage: `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`,
      trace: typeof (error as Error)?.stack === 'string' ? (error as Error).stack!.split('\n') : [],
    });
  }
  // A CommonJS module imported from ESM exposes its exports on `default`.
  const candidate =
    module[handler.exportName] ??
    (module.default as Record<string, unknown> | undefined)?.[handler.exportName];
  if (typeof candidate !== 'function') {
    throw new HandlerLoadError({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${handler.text} is undefined or not exported`,
      trace: [],
    });
  }
  return candidate as FunctionHandler<never, unknown>;
}
