import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The store is the ground floor (docs/design/store.md): a file under src/store/ imports only the store
 * and src/model/ (its tests may also use src/testkit/). One block per folder depth, as the relative
 * path that leaves src/store/ grows a `../` with each level.
 */
function storeImportsOnlyDownward() {
  const blocks = [];
  for (let depth = 1; depth <= 3; depth++) {
    const files = `src/store/${'*/'.repeat(depth - 1)}*.ts`;
    const upToSrc = '\\.\\./'.repeat(depth);
    for (const tests of [false, true]) {
      const allowed = tests ? 'model/|store/|testkit/' : 'model/|store/';
      blocks.push({
        files: [tests ? files.replace(/\*\.ts$/, '*.test.ts') : files],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                {
                  regex: `^${upToSrc}(?!${allowed})`,
                  message: `src/store/ imports only the store and src/model/${tests ? ' (tests: and src/testkit/)' : ''}: move the type or rule into the store instead.`,
                },
              ],
            },
          ],
        },
      });
    }
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['dist/**', '.bench-build/**', '.bench-node*/**', 'node_modules/**', 'coverage/**', '*.db*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript run by Node.js itself: the package check and its consumer project, the CommonJS entry.
    files: ['**/*.mjs', '**/*.cjs', 'test/package/consumer/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'URL', 'require', 'module', '__dirname'].map(
          (name) => [name, 'readonly'],
        ),
      ),
    },
  },
  {
    // The console's browser modules (src/console/assets), shipped as they are.
    files: ['src/console/assets/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['document', 'window', 'location', 'fetch', 'EventSource', 'addEventListener', 'removeEventListener', 'setTimeout', 'clearTimeout', 'console', 'URL'].map(
          (name) => [name, 'readonly'],
        ),
      ),
    },
  },
  {
    files: ['**/*.cjs', 'test/package/consumer/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...storeImportsOnlyDownward(),
);
