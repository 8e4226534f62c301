// ESLint (flat config) with typescript-eslint, run by `npm test` (scripts/run-tests.mjs) and
// `npm run lint`. Rules chosen for bugs they catch in this code base, not for style (formatting is
// left alone). Import cycles and src/ → training/ are checked by test/architecture/imports.test.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'native/build/', '.dist-*/', 'runs/', 'checkpoints/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      // an unused variable is usually a forgotten step (args: a callback's leading params are fine)
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', caughtErrors: 'none', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // initialising a variable before a try/loop that always assigns it is not a bug here
      'no-useless-assignment': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      'no-throw-literal': 'error',
      'no-self-compare': 'error',
      'no-template-curly-in-string': 'error',
      'no-unmodified-loop-condition': 'error',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', performance: 'readonly', setTimeout: 'readonly' } },
  },
);
