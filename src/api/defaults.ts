/** A node's documented defaults, in a module light enough for the CLI to import without the server. */
export const DEFAULT_PORT = 8340;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_STORE = 'sqlite:./sluice.db';
