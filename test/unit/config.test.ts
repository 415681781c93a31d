import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from '../../contracts/errors';
import { CONFIG_ENV_VAR, MAX_CONFIG_BYTES, loadConfig, parseConfig } from '../../config/load-config';
import { BUILTIN_PROFILES } from '../../config/toolkit-profiles';
import { exampleConfigWithDemoKeys, expectConfigError, minimalRawConfig, tempDir } from './helpers';

describe('parseConfig defaults', () => {
  test('a minimal config WITHOUT a toolkit block is accepted and defaults to the cdf profile', () => {
    // Every toolkit field has a default, so the block itself must be optional (see report: needs .prefault({})).
    const raw = minimalRawConfig();
    delete raw.toolkit;
    const cfg = parseConfig(raw, '/srv/promo/config.yaml');
    expect(cfg.toolkit.profile).toBe('cdf');
    expect(cfg.toolkit.executable).toBe('cdf');
    expect(cfg.toolkit.commands).toEqual(BUILTIN_PROFILES.cdf);
    expect(cfg.toolkit.timeouts).toEqual({ build: 600_000, diff: 900_000, apply: 3_600_000 });
    expect(cfg.toolkit.env).toEqual({});
  });

  test('a minimal config gets the documented defaults', () => {
    const cfg = parseConfig(minimalRawConfig(), '/srv/promo/config.yaml');
    expect(cfg.temporal.taskQueue).toBe('cdf-promotions');
    expect(cfg.temporal.namespace).toBe('default');
    expect(cfg.toolkit.profile).toBe('cdf');
    expect(cfg.toolkit.executable).toBe('cdf');
    expect(cfg.toolkit.commands).toEqual(BUILTIN_PROFILES.cdf);
    expect(cfg.toolkit.timeouts).toEqual({ build: 600_000, diff: 900_000, apply: 3_600_000 });
    const prod = cfg.environments.prod!;
    expect(prod.approval.timeout).toBe(72 * 60 * 60 * 1000);
    expect(prod.approval.rollbackRequiresApproval).toBe(true);
    expect(prod.approval.requiredApprovals).toBe(1);
    expect(prod.approval.allowSelfApproval).toBe(false);
    expect(prod.smoke).toEqual({ dataModels: [], minAssets: 0, transformations: [] });
    expect(prod.alerts).toEqual([]);
    expect(cfg.source).toBe('/srv/promo/config.yaml');
  });

  test('durations given as strings are converted to milliseconds', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval.timeout = '2d';
    raw.toolkit = { timeouts: { diff: '90s' } };
    raw.environments.prod.smoke = {
      transformations: [{ externalId: 'tr', window: '30m' }, { externalId: 'tr2' }],
    };
    const cfg = parseConfig(raw, '/srv/promo/config.yaml');
    expect(cfg.environments.prod!.approval.timeout).toBe(2 * 86_400_000);
    expect(cfg.toolkit.timeouts.diff).toBe(90_000);
    expect(cfg.toolkit.timeouts.apply).toBe(3_600_000);
    expect(cfg.environments.prod!.smoke.transformations).toEqual([
      { externalId: 'tr', windowMs: 1_800_000 },
      { externalId: 'tr2', windowMs: 3_600_000 },
    ]);
  });

  test('relative paths resolve against the config file folder, not the cwd', () => {
    const raw = minimalRawConfig();
    raw.repository.url = '../repos/config';
    raw.dataDir = 'state';
    raw.toolkit = { executable: './bin/cdf' };
    const cfg = parseConfig(raw, '/srv/promo/etc/config.yaml');
    expect(cfg.repository.url).toBe('/srv/promo/repos/config');
    expect(cfg.dataDir).toBe('/srv/promo/etc/state');
    expect(cfg.toolkit.executable).toBe('/srv/promo/etc/bin/cdf');
    // default dataDir is ../data relative to the file
    expect(parseConfig(minimalRawConfig(), '/srv/promo/etc/config.yaml').dataDir).toBe('/srv/promo/data');
  });

  test('remote repository URLs and bare executable names are left alone', () => {
    const raw = minimalRawConfig();
    raw.repository.url = 'git@github.com:acme/cdf-config.git';
    raw.toolkit = { executable: 'cognite-toolkit' };
    const cfg = parseConfig(raw, '/srv/promo/config.yaml');
    expect(cfg.repository.url).toBe('git@github.com:acme/cdf-config.git');
    expect(cfg.toolkit.executable).toBe('cognite-toolkit');
    raw.repository.url = 'https://github.com/acme/cdf-config.git';
    expect(parseConfig(raw, '/x/c.yaml').repository.url).toBe('https://github.com/acme/cdf-config.git');
  });

  test('playbook and custom profiles select their commands', () => {
    const raw = minimalRawConfig();
    raw.toolkit = { profile: 'playbook' };
    expect(parseConfig(raw, '/x/c.yaml').toolkit.commands).toEqual(BUILTIN_PROFILES.playbook);
    raw.toolkit = {
      profile: 'custom',
      custom: { diff: ['{cdf}', 'plan', '{env}'], apply: ['{cdf}', 'go', '{env}'] },
    };
    const cfg = parseConfig(raw, '/x/c.yaml');
    expect(cfg.toolkit.commands).toEqual({
      diff: ['{cdf}', 'plan', '{env}'],
      apply: ['{cdf}', 'go', '{env}'],
    });
    expect((cfg.toolkit as Record<string, unknown>).custom).toBeUndefined();
  });
});

describe('parseConfig errors name the bad key path', () => {
  test('empty approvers list', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval.approvers = [];
    expectConfigError(raw, 'environments.prod.approval.approvers', '/srv/promo/config.yaml');
  });

  test('client_credentials without the audience the Toolkit requires is refused at start-up', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.credentials = {
      flow: 'client_credentials',
      clientIdEnv: 'CDF_CLIENT_ID',
      clientSecretEnv: 'CDF_CLIENT_SECRET',
      tokenUrl: 'https://login.example.invalid/token',
    };
    const err = expectConfigError(raw, 'environments.prod.credentials.audience');
    expect(err.message).toContain('IDP_AUDIENCE');
    raw.environments.prod.credentials.audience = 'https://westeurope-1.cognitedata.com';
    expect(parseConfig(raw, '/srv/promo/config.yaml').environments.prod!.credentials).toMatchObject({
      audience: 'https://westeurope-1.cognitedata.com',
    });
  });

  test('a Toolkit version that is not a version number is refused in toolkit.versions.installed', () => {
    const raw = minimalRawConfig();
    raw.toolkit = { versions: { installed: { latest: '/opt/cdf' } } };
    expectConfigError(raw, 'toolkit.versions.installed');
  });

  test('a Toolkit cache that is the data dir (or holds it) is refused: the cache evicts what is in it', () => {
    const raw = minimalRawConfig();
    raw.dataDir = '/srv/promo/data';
    raw.toolkit = { versions: { install: { cacheDir: '/srv/promo/data' } } };
    expectConfigError(raw, 'toolkit.versions.install.cacheDir');
    raw.toolkit = { versions: { install: { cacheDir: '/srv/promo' } } };
    expectConfigError(raw, 'toolkit.versions.install.cacheDir');
    raw.toolkit = { versions: { install: { cacheDir: '/srv/promo/data/toolkits' } } };
    expect(() => parseConfig(raw, '/srv/promo/config.yaml')).not.toThrow();
  });

  test('missing approval block', () => {
    const raw = minimalRawConfig();
    delete raw.environments.prod.approval;
    expectConfigError(raw, 'environments.prod.approval');
  });

  test('a literal token instead of an env var name is refused', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.credentials.tokenEnv = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.abc';
    const err = expectConfigError(
      raw,
      'environments.prod.credentials.tokenEnv',
      'NAME of an environment variable',
    );
    // Start-up errors end up in logs: the secret itself must not be echoed back.
    expect(err.message).not.toContain('eyJhbGciOi');
  });

  test('a literal webhook URL in urlEnv is refused', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.alerts = [{ type: 'slack', urlEnv: 'https://hooks.slack.com/services/T/B/x' }];
    expectConfigError(raw, 'environments.prod.alerts.0.urlEnv');
  });

  test('profile custom without toolkit.custom', () => {
    const raw = minimalRawConfig();
    raw.toolkit = { profile: 'custom' };
    expectConfigError(raw, 'toolkit.custom', 'required when profile is "custom"');
  });

  test('unknown placeholder in a custom argv template names its index', () => {
    const raw = minimalRawConfig();
    raw.toolkit = { profile: 'custom', custom: { diff: ['{cdf}', '{foo}'], apply: ['{cdf}', 'apply'] } };
    expectConfigError(raw, 'toolkit.custom.diff.1', 'unknown placeholder {foo}');
  });

  test('unknown top-level key is refused', () => {
    const raw = minimalRawConfig();
    raw.environmnets = {};
    expectConfigError(raw, 'environmnets');
  });

  test('unknown key inside an environment is refused', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.token = 'abc';
    expectConfigError(raw, 'environments.prod', 'token');
  });

  test('bad duration string names the key and the value', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval.timeout = '3 weeks';
    expectConfigError(raw, 'environments.prod.approval.timeout', '"3 weeks" is not a duration');
  });

  test('worker.workflowThreads is a small whole number: one by default, a typo like 0 or 200 refused', () => {
    expect(parseConfig(minimalRawConfig(), '/srv/promo/config.yaml').worker.workflowThreads).toBe(1);
    const two = parseConfig({ ...minimalRawConfig(), worker: { workflowThreads: 2 } }, '/srv/promo/c.yaml');
    expect(two.worker.workflowThreads).toBe(2);
    const refused = (v: unknown, why: string) =>
      expectConfigError(
        { ...minimalRawConfig(), worker: { workflowThreads: v } },
        `worker.workflowThreads: ${why}`,
      );
    refused(0, 'Too small: expected number to be >=1');
    refused(200, 'Too big: expected number to be <=16');
    refused(1.5, 'Invalid input: expected int');
  });

  test('upper-case environment name is refused with the reason', () => {
    const raw = minimalRawConfig();
    raw.environments = { Prod: raw.environments.prod };
    // zod v4 reports record-key failures as "Invalid key in record" with the real reason nested in issue.issues.
    expectConfigError(raw, 'environments.Prod', 'environment names must be lower-case');
  });

  test('empty environments are refused', () => {
    const empty = minimalRawConfig();
    empty.environments = {};
    expectConfigError(empty, 'environments', 'at least one environment');
  });

  test('non-object input is a configuration error, not a crash', () => {
    expectConfigError(null, '/srv/promo/config.yaml');
    expectConfigError('just a string', '(top level)');
  });
});

describe('loadConfig', () => {
  const tmp = tempDir('cdf-config-');
  afterAll(() => tmp.cleanup());

  test('reads YAML and resolves paths against the file folder', () => {
    const file = path.join(tmp.dir, 'promotion.yaml');
    writeFileSync(
      file,
      [
        'repository: { url: ./repo }',
        'toolkit: { profile: playbook }',
        'environments:',
        '  dev:',
        '    cdfProject: d',
        '    baseUrl: http://127.0.0.1:4010',
        '    credentials: { flow: token, tokenEnv: CDF_TOKEN_DEV }',
        '    approval: { approvers: [bob, carol], timeout: 90m }',
      ].join('\n'),
    );
    const cfg = loadConfig(file);
    expect(cfg.repository.url).toBe(path.join(tmp.dir, 'repo'));
    expect(cfg.environments.dev!.approval.timeout).toBe(90 * 60_000);
    expect(cfg.source).toBe(file);
    expect(cfg.toolkit.commands).toEqual(BUILTIN_PROFILES.playbook);
  });

  test('missing file: message names the file and the env var to change it', () => {
    const file = path.join(tmp.dir, 'nope.yaml');
    expect(() => loadConfig(file)).toThrow(ConfigurationError);
    expect(() => loadConfig(file)).toThrow(file);
    expect(() => loadConfig(file)).toThrow(CONFIG_ENV_VAR);
    expect(CONFIG_ENV_VAR).toBe('CDF_PROMOTION_CONFIG');
  });

  test('a configuration file over 1 MiB is refused before it is parsed', () => {
    const file = path.join(tmp.dir, 'huge.yaml');
    writeFileSync(file, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    expect(() => loadConfig(file)).toThrow(ConfigurationError);
    expect(() => loadConfig(file)).toThrow(/huge\.yaml is \d+ bytes; the limit is 1048576 \(1 MiB\)/);
  });

  test('invalid YAML is a ConfigurationError naming the file', () => {
    const file = path.join(tmp.dir, 'broken.yaml');
    writeFileSync(file, 'repository: [unclosed\n  - : :');
    expect(() => loadConfig(file)).toThrow(ConfigurationError);
    expect(() => loadConfig(file)).toThrow(/broken\.yaml.*not valid YAML/);
  });

  test('the repo config/local.yaml validates', () => {
    // A copy in the repository's layout, with the demo keys `npm start` makes for its signed prod.
    const file = exampleConfigWithDemoKeys('config/local.yaml');
    const cfg = loadConfig(file);
    expect(cfg.environments.prod!.approval.identity).toBe('signed');
    expect(Object.keys(cfg.people).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(Object.keys(cfg.environments).sort()).toEqual(['dev', 'prod']);
    expect(cfg.environments.dev!.approval.rollbackRequiresApproval).toBe(false);
    expect(cfg.environments.prod!.smoke.transformations).toEqual([
      { externalId: 'pump_tr', windowMs: 3_600_000 },
    ]);
    // The Toolkit cache is a relative path in the file: it must come out absolute, under the repo root.
    const repoRoot = path.resolve(path.dirname(file), '..');
    expect(cfg.toolkit.versions.install.cacheDir).toBe(path.join(repoRoot, 'data', 'toolkits'));
    expect(cfg.toolkit.versions.install.allow).toEqual(['0.8.*', '0.9.*']);
    expect(cfg.repository.url).toBe(path.join(repoRoot, 'data/local/config-repo'));
    expect(cfg.dataDir).toBe(path.join(repoRoot, 'data/local'));
    expect(cfg.temporal.taskQueue).toBe('cdf-promotions');
  });
});

test('requiredApprovals larger than the approver list is refused at start-up (runs could only expire)', () => {
  expect(() =>
    parseConfig(
      {
        repository: { url: '/repo' },
        environments: {
          prod: {
            cdfProject: 'p',
            baseUrl: 'https://x.example',
            credentials: { flow: 'token', tokenEnv: 'T' },
            approval: { approvers: ['bob'], requiredApprovals: 2 },
          },
        },
      },
      '/etc/promotion.yaml',
    ),
  ).toThrow(/environments\.prod\.approval\.requiredApprovals: cannot exceed the number of approvers/);
});

describe('artifacts: where plans and build reports are kept', () => {
  const withArtifacts = (artifacts: unknown): Record<string, any> => ({ ...minimalRawConfig(), artifacts });

  test('the default is a folder in the data dir; an s3 store takes its settings from the section', () => {
    expect(parseConfig(minimalRawConfig(), '/srv/promo/etc/config.yaml').artifacts).toEqual({
      store: 'filesystem',
      dir: '/srv/promo/data/artifacts',
      region: 'us-east-1',
      forcePathStyle: false,
    });
    const cfg = parseConfig(
      withArtifacts({
        store: 's3',
        endpoint: 'http://seaweedfs:8333',
        bucket: 'cdf-promotion-artifacts',
        prefix: 'cdf-promotion/',
        forcePathStyle: true,
      }),
      '/srv/promo/etc/config.yaml',
    );
    expect(cfg.artifacts).toMatchObject({
      store: 's3',
      endpoint: 'http://seaweedfs:8333',
      bucket: 'cdf-promotion-artifacts',
      prefix: 'cdf-promotion/',
      region: 'us-east-1',
      forcePathStyle: true,
    });
  });

  test('credentials in the configuration are refused, saying where they come from instead', () => {
    for (const key of ['accessKeyId', 'secretAccessKey', 'sessionToken', 'credentials', 'profile']) {
      const err = expectConfigError(
        withArtifacts({ store: 's3', bucket: 'b-bucket', [key]: 'AKIAEXAMPLE' }),
        `artifacts: "${key}": S3 credentials are never read from the configuration file`,
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      );
      expect(err.message).not.toContain('AKIAEXAMPLE');
    }
    expectConfigError(
      withArtifacts({ store: 's3', bucket: 'b-bucket', endpoint: 'https://AKIA:secret@s3.example.com' }),
      'artifacts.endpoint: must not carry credentials',
    );
    // Other unknown keys keep the ordinary message.
    expectConfigError(withArtifacts({ store: 's3', bucket: 'b-bucket', buckt: 'x' }), 'Unrecognized key');
  });

  test('s3 needs a bucket; the folder and the bucket settings do not mix', () => {
    expectConfigError(withArtifacts({ store: 's3' }), 'artifacts.bucket: required when store is s3');
    expectConfigError(
      withArtifacts({ store: 's3', bucket: 'b-bucket', dir: '/shared' }),
      'artifacts.dir: only for store: filesystem',
    );
    // A bucket without `store: s3` would silently keep plans on local disk.
    expectConfigError(
      withArtifacts({ bucket: 'b-bucket' }),
      'artifacts.bucket: only for store: s3 (store is filesystem); set artifacts.store: s3',
    );
    expectConfigError(
      withArtifacts({ store: 's3', bucket: 'Not_A_Bucket' }),
      'artifacts.bucket: must be an S3 bucket name',
    );
  });

  test('prefixes are key prefixes: no leading "/", no "." or ".." segments', () => {
    for (const ok of ['cdf-promotion/', 'team/cdf-promotion', 'a.b/c_d-e/'])
      expect(
        parseConfig(withArtifacts({ store: 's3', bucket: 'b-bucket', prefix: ok }), '/x/c.yaml').artifacts
          .prefix,
      ).toBe(ok);
    for (const bad of ['/abs', '../up', 'a/../b', 'a/./b', 'sp ace'])
      expectConfigError(withArtifacts({ store: 's3', bucket: 'b-bucket', prefix: bad }), 'artifacts.prefix');
  });

  test('artifacts.dir resolves from the config file and may not sit in the Toolkit cache', () => {
    const cfg = parseConfig(withArtifacts({ dir: '../shared/artifacts' }), '/srv/promo/etc/config.yaml');
    expect(cfg.artifacts.dir).toBe('/srv/promo/shared/artifacts');
    const raw = withArtifacts({ dir: '/var/cache/toolkits/plans' });
    raw.toolkit = { versions: { install: { cacheDir: '/var/cache/toolkits' } } };
    expectConfigError(raw, 'artifacts.dir: must not be inside toolkit.versions.install.cacheDir');
  });
});
