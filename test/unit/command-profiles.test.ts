import { renderArgv } from '../../activities/toolkit/command-profiles';
import { BUILTIN_PROFILES, PROFILE_PLACEHOLDERS, type Placeholder } from '../../config/toolkit-profiles';

const values = (over: Partial<Record<Placeholder, string>> = {}): Record<Placeholder, string> => ({
  cdf: 'cdf',
  toolkit: '/toolkits/0.9.28/bin/cdf',
  logDir: '/runs/r1/toolkit-logs',
  projectDir: '/runs/r1/checkout',
  orgDir: 'org',
  configFile: 'org/config.prod.yaml',
  buildDir: '/runs/r1/build',
  env: 'prod',
  cdfProject: 'acme-prod',
  ...over,
});

describe('renderArgv with the cdf profile', () => {
  test('diff renders a dry-run deploy of the build dir against the project', () => {
    expect(renderArgv(BUILTIN_PROFILES.cdf.diff, values())).toEqual([
      'cdf',
      '--no-override-env',
      'deploy',
      '/runs/r1/build',
      '--dry-run',
      '--cdf-project',
      'acme-prod',
      '--verbose',
      '--log-dir',
      '/runs/r1/toolkit-logs',
    ]);
  });

  test('apply is the same deploy without --dry-run', () => {
    const argv = renderArgv(BUILTIN_PROFILES.cdf.apply, values());
    expect(argv).toEqual([
      'cdf',
      '--no-override-env',
      'deploy',
      '/runs/r1/build',
      '--cdf-project',
      'acme-prod',
      '--log-dir',
      '/runs/r1/toolkit-logs',
    ]);
    expect(argv).not.toContain('--dry-run');
  });

  test('build uses the org dir, config file and build dir', () => {
    expect(renderArgv(BUILTIN_PROFILES.cdf.build!, values())).toEqual([
      'cdf',
      '--no-override-env',
      'build',
      '-o',
      'org',
      '-c',
      'org/config.prod.yaml',
      '-b',
      '/runs/r1/build',
      '--insight-format',
      'json',
    ]);
  });

  test('a value with spaces and shell metacharacters stays one argument, unchanged', () => {
    const evil = 'a b; rm -rf / && echo $(id) `x` | cat > /tmp/p';
    const argv = renderArgv(BUILTIN_PROFILES.cdf.diff, values({ cdfProject: evil }));
    expect(argv).toHaveLength(BUILTIN_PROFILES.cdf.diff.length);
    expect(argv[argv.indexOf('--cdf-project') + 1]).toBe(evil);
    expect(argv.filter((a) => a.includes('rm -rf'))).toEqual([evil]);
  });

  test('a value that itself looks like a placeholder is not expanded again', () => {
    const argv = renderArgv(['{cdf}', '--p={cdfProject}'], values({ cdfProject: '{buildDir}' }));
    expect(argv).toEqual(['cdf', '--p={buildDir}']);
  });

  test('an unknown placeholder throws naming it', () => {
    expect(() => renderArgv(['{cdf}', '{nope}'], values())).toThrow('{nope}');
  });
});

describe('playbook profile', () => {
  test('renders cognite-toolkit style diff and apply', () => {
    const v = values({ cdf: 'cognite-toolkit', cdfProject: 'P', env: 'E', orgDir: 'M' });
    expect(renderArgv(BUILTIN_PROFILES.playbook.diff, v)).toEqual([
      'cognite-toolkit',
      'diff',
      '--project',
      'P',
      '--env',
      'E',
      '--module-path',
      'M',
    ]);
    expect(renderArgv(BUILTIN_PROFILES.playbook.apply, v)).toEqual([
      'cognite-toolkit',
      'apply',
      '--project',
      'P',
      '--env',
      'E',
      '--module-path',
      'M',
      '--yes',
    ]);
    expect(BUILTIN_PROFILES.playbook.build).toBeUndefined();
  });

  test('every builtin template only uses known placeholders', () => {
    for (const profile of Object.values(BUILTIN_PROFILES)) {
      for (const template of [profile.build, profile.diff, profile.apply, profile.clean]) {
        if (!template) continue;
        for (const arg of template) {
          for (const m of arg.matchAll(/\{([a-zA-Z]+)\}/g)) expect(PROFILE_PLACEHOLDERS).toContain(m[1]);
        }
      }
    }
  });
});
