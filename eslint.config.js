import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.stack/**',
      '.nx/**',
      'bench/results/**',
      'libs/llm/test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // libs never import apps
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/*', '@sps/app-*'], message: 'libs must not import apps' }] },
      ],
    },
  },
);
