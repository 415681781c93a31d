/**
 * Toolkit command profiles: argv templates, never shell strings. Placeholders are substituted per argument, so
 * a value with spaces or shell metacharacters stays one argument.
 */
export const PROFILE_PLACEHOLDERS = [
  'cdf', // the configured executable
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

export const BUILTIN_PROFILES: Record<'cdf' | 'playbook', CommandProfile> = {
  // The real Toolkit (0.8.x). --no-override-env stops a stray .env from redirecting a deploy.
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
    ],
    apply: ['{cdf}', '--no-override-env', 'deploy', '{buildDir}', '--cdf-project', '{cdfProject}'],
    clean: ['{cdf}', '--no-override-env', 'clean', '{buildDir}', '--cdf-project', '{cdfProject}'],
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

export function renderArgv(template: readonly string[], values: Record<Placeholder, string>): string[] {
  return template.map((arg) =>
    arg.replace(/\{([a-zA-Z]+)\}/g, (whole, name: string) => {
      if (!(name in values)) throw new Error(`unknown placeholder ${whole} in command template`);
      return values[name as Placeholder];
    }),
  );
}
