/**
 * Toolkit command profiles as data: argv templates, never shell strings. The configuration picks one (or
 * defines a custom one); activities/toolkit renders and runs it. Placeholders are substituted per argument, so a
 * value with spaces or shell metacharacters stays one argument.
 */
export const PROFILE_PLACEHOLDERS = [
  'cdf', // the pinned Toolkit with the cdf profile; the configured executable (a wrapper) with the others
  'toolkit', // the cdf executable of the Toolkit version the checkout pins (also in CDF_BIN)
  'logDir', // the run's folder for the Toolkit's request/response logs, outside the checkout
  'projectDir', // checkout folder holding cdf.toml (command cwd)
  'orgDir', // Toolkit organization dir, relative to projectDir
  'configFile', // <orgDir>/config.<env>.yaml unless the environment overrides it
  'buildDir', // absolute build dir owned by the run
  'env', // environment name
  'cdfProject', // CDF project of the environment
] as const;
export type Placeholder = (typeof PROFILE_PLACEHOLDERS)[number];

export interface CommandProfile {
  /** Absent for profiles whose diff and apply build themselves (the playbook syntax). */
  build?: string[];
  diff: string[];
  apply: string[];
  clean?: string[];
}

export type BuiltinProfileName = 'cdf' | 'playbook';

export const BUILTIN_PROFILES: Record<BuiltinProfileName, CommandProfile> = {
  // The real Toolkit (0.8.x and 0.9.x). --no-override-env stops a stray .env from redirecting a deploy.
  cdf: {
    build: [
      '{cdf}',
      '--no-override-env',
      'build',
      '-o',
      '{orgDir}',
      '-c',
      '{configFile}',
      '-b',
      '{buildDir}',
      '--insight-format',
      'json',
    ],
    diff: [
      '{cdf}',
      '--no-override-env',
      'deploy',
      '{buildDir}',
      '--dry-run',
      '--cdf-project',
      '{cdfProject}',
      '--verbose',
      '--log-dir',
      '{logDir}',
    ],
    apply: [
      '{cdf}',
      '--no-override-env',
      'deploy',
      '{buildDir}',
      '--cdf-project',
      '{cdfProject}',
      '--log-dir',
      '{logDir}',
    ],
    clean: [
      '{cdf}',
      '--no-override-env',
      'clean',
      '{buildDir}',
      '--cdf-project',
      '{cdfProject}',
      '--log-dir',
      '{logDir}',
    ],
  },
  // The syntax of playbook 06. No released Toolkit has these commands; kept for teams with a wrapper of that name.
  playbook: {
    diff: ['{cdf}', 'diff', '--project', '{cdfProject}', '--env', '{env}', '--module-path', '{orgDir}'],
    apply: [
      '{cdf}',
      'apply',
      '--project',
      '{cdfProject}',
      '--env',
      '{env}',
      '--module-path',
      '{orgDir}',
      '--yes',
    ],
  },
};
