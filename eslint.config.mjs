// ESLint for every JS file in the repository: `make lint-js` (or `npx eslint .`).
// .mjs, not .js: package.json cannot say "type": "module", since Node would
// then read .cache/runtime/core/pyodide.asm.js (CommonJS) as a module and the
// bytecode build step would fail.
// Each group of files gets the globals of the place it runs in, so a page-only
// API used in a worker, or a Node API used in the page, is reported.

import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';

export default [
  {
    // Installed, built, fetched or generated: not ours to lint.
    ignores: ['**/node_modules/', 'dist/', '.cache/', 'build/', '.venv*/', 'test-artifacts/'],
  },
  js.configs.recommended,
  {
    plugins: { '@stylistic': stylistic },
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@stylistic/max-len': ['error', { code: 130, ignoreUrls: true }],
      // `catch {}` is how the code says "nothing to do"; an empty block elsewhere is a slip.
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['web/ui/**/*.js', 'web/client/**/*.js', 'examples/*/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['web/worker/**/*.js'],
    languageOptions: { globals: globals.worker },
  },
  {
    // Importing the client registers nothing: offline caching (web/sw.js) is the studio's (web/ui/app.js)
    // and an embedder's choice (docs/embedding.md), never a side effect of the client or its workers.
    files: ['web/client/**/*.js', 'web/worker/**/*.js'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'navigator', property: 'serviceWorker', message: 'Only the studio (web/ui) registers a service worker.' }],
      'no-restricted-syntax': ['error', {
        selector: "MemberExpression[property.name='serviceWorker']",
        message: 'Only the studio (web/ui) registers a service worker.',
      }],
    },
  },
  {
    // Registered without {type: 'module'}, so it is a classic script.
    files: ['web/sw.js'],
    languageOptions: { sourceType: 'script', globals: globals.serviceworker },
  },
  {
    files: ['build_scripts/**/*.mjs', 'tests/**/*.mjs', 'npm-package/**/*.mjs', 'examples/*/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: globals.node },
  },
];
