// The rules the code already follows, checked on every `npm test`: type-aware typescript-eslint (its recommended
// set), with the house's choices below. Formatting is prettier's alone (eslint-config-prettier turns style off).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.test-results/**', '.data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: { allowDefaultProject: ['*.ts', '*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unused names are a mistake, except the `_` prefix that says "deliberately ignored".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Type-only imports say so, so nothing is loaded for a type.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Promises are awaited or handed on; a deliberate fire-and-forget is written `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify and Node accept async handlers where their types say void (hooks, error handlers, listeners).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // Stored documents, job payloads and Redis replies are parsed with zod before use; `any` never crosses a boundary.
      '@typescript-eslint/no-explicit-any': 'error',
      // Fastify plugins are async by contract, and the stores are factories of closures, not classes: neither rule fits.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Its view of which assertions narrow differs from the packages' own compilations (it removed needed ones).
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Benchmarks and the embedded servers' CLI print on purpose.
    files: ['bench/**', 'packages/embedded/src/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Tests read answers as the JSON they are (response.json(), JSON.parse) and assert on them; test doubles may
    // implement an async interface without awaiting.
    files: ['**/test/**'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
