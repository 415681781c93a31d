// ESLint: typescript-eslint recommended rules, awaited promises everywhere, and the architecture's import
// boundaries. Each boundary's message names its rule, so a failure says which rule a change broke and why.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Matches a relative import of one of the top-level folders, e.g. '../activities' or '../../fakes/cdf/server'. */
const folders = (...names) => `^(\\.{1,2}/)+(${names.join('|')})(/.*)?$`;
const boundary = (name, why) => `[boundary: ${name}] ${why}`;

const notInProduction = {
  regex: folders('fakes', 'test', 'scripts', 'bench'),
  message: boundary(
    'production-code',
    'production code never imports the fake CDF, test support, scripts or benchmarks.',
  ),
};

/** One no-restricted-imports entry per folder: flat config replaces (does not merge) a rule's options. */
const restrict = (files, patterns, paths = []) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
});

const workflowSandbox = [
  ...nodeBuiltins.map((name) => ({
    name,
    message: boundary('workflow-deterministic', 'workflow code must be deterministic: no Node built-ins.'),
  })),
];
const workflowPatterns = [
  {
    regex: folders('activities', 'worker', 'client', 'config', 'artifacts'),
    message: boundary(
      'workflow-imports',
      'workflows import only contracts/ and pure workflow modules; activity types come from contracts/activity-types.',
    ),
  },
  {
    group: [
      '@cognite/*',
      'pino',
      '@temporalio/client',
      '@temporalio/worker',
      '@temporalio/activity',
      '@aws-sdk/*',
    ],
    message: boundary('workflow-deterministic', 'I/O libraries are not allowed in the workflow sandbox.'),
  },
  notInProduction,
];

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'node_modules/**', '.venv/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  restrict(['workflows/**/*.ts'], workflowPatterns, workflowSandbox),
  restrict(
    ['contracts/**/*.ts'],
    [
      ...workflowPatterns,
      {
        regex: folders('workflows'),
        message: boundary('contracts-leaf', 'contracts/ is shared by everyone and imports nobody’s logic.'),
      },
    ],
    workflowSandbox,
  ),
  restrict(
    ['config/**/*.ts', 'artifacts/**/*.ts'],
    [
      {
        regex: folders('activities', 'worker', 'client', 'workflows'),
        message: boundary(
          'shared-leaf',
          'config/ and artifacts/ are shared by worker, activities and CLI, so they import none of them.',
        ),
      },
      notInProduction,
    ],
  ),
  restrict(
    ['activities/**/*.ts'],
    [
      {
        regex: folders('worker', 'client', 'workflows'),
        message: boundary(
          'activity-imports',
          'activities get their clients injected by the worker and never import worker, client or workflow code.',
        ),
      },
      notInProduction,
    ],
  ),
  restrict(
    ['client/**/*.ts'],
    [
      {
        regex: folders('worker', 'activities', 'workflows'),
        message: boundary(
          'client-imports',
          'the CLI talks to workflows through Temporal; it imports contracts/, config/ and artifacts/, never worker or activity code.',
        ),
      },
      notInProduction,
    ],
  ),
  restrict(
    ['worker/**/*.ts'],
    [
      {
        regex: folders('client'),
        message: boundary('worker-imports', 'the worker does not depend on the CLI.'),
      },
      notInProduction,
    ],
  ),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
