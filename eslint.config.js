// Type-aware lint: the rules that catch real defects in async CLI code (a dropped promise is a
// refresh whose rotated token may never be stored), not style — prettier owns formatting.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// A relative import that reaches into infra/ or cli/ (or the entry points that wire them).
const LAYER = /^\.\.?\/(?:\.\.\/)*(?:infra|cli)\/|(?:^|\/)(?:main|fast-path)\.js$/;
// A relative import of a module beside a command: another command.
const SIBLING = /^\.\/[^/]+$/;
// A relative import that reaches into infra/, or the OAuth library itself.
const INFRA = /^\.\.?\/(?:\.\.\/)*infra\/|^openid-client$/;

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bin/', 'bench/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // With verbatimModuleSyntax, `import { type X }` still loads the module at run time: a help
      // or usage error would load the config parser that a type import was meant to leave out.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // Escaping control characters out of server text is exactly what those regexes are for.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The shape of the code (docs/design.md): core is pure logic behind the ports in src/core/ports.ts,
  // so it imports nothing from infra or cli, statically or lazily; commands share code through
  // core and cli modules, never through one another.
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: LAYER.source, message: 'core imports nothing from infra or cli' }] },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=${LAYER}]`, message: 'core imports nothing from infra or cli' },
        {
          selector: `TSImportType[argument.literal.value=${LAYER}]`,
          message: 'core imports nothing from infra or cli',
        },
      ],
    },
  },
  // Commands and their run modules take every port from the Context (cli/context.ts), the one
  // place that builds them: none imports infra or the OAuth library.
  {
    files: ['src/cli/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: SIBLING.source, message: 'commands never import each other' },
            { regex: INFRA.source, message: 'commands take their ports from the Context, never from infra' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=${SIBLING}]`, message: 'commands never import each other' },
        { selector: `TSImportType[argument.literal.value=${SIBLING}]`, message: 'commands never import each other' },
        {
          selector: `ImportExpression[source.value=${INFRA}]`,
          message: 'commands take their ports from the Context, never from infra',
        },
        {
          selector: `TSImportType[argument.literal.value=${INFRA}]`,
          message: 'commands take their ports from the Context, never from infra',
        },
      ],
    },
  },
  {
    files: ['src/cli/runs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ regex: INFRA.source, message: 'commands take their ports from the Context, never from infra' }],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression[source.value=${INFRA}]`,
          message: 'commands take their ports from the Context, never from infra',
        },
        {
          selector: `TSImportType[argument.literal.value=${INFRA}]`,
          message: 'commands take their ports from the Context, never from infra',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
