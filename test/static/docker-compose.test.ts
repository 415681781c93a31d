/**
 * Static checks of the docker-compose deployment (Docker does not run in CI): the things a user would notice only
 * after `docker compose up` failed or, worse, half-worked.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { METRICS, SDK_METRICS } from '../../contracts/metrics';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../contracts/search-attributes';
import { ConfigurationError } from '../../contracts/errors';
import { parseConfig } from '../../config/load-config';
import { SERVER_DYNAMIC_CONFIG } from '../../config/temporal-server-settings';
import { WORKER_PROCESS_ENV } from '../../config/defaults';

const ROOT = path.resolve(__dirname, '..', '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const DOCKERFILE = path.join(ROOT, 'Dockerfile');

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

// Compose applies YAML merge keys (<<: *anchor); so must we.
const compose = parseYaml(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as unknown;
if (!isDict(compose) || !isDict(compose.services)) throw new Error('docker-compose.yml has no services map');
const services = compose.services;
const namedVolumes = isDict(compose.volumes) ? Object.keys(compose.volumes) : [];

function service(name: string): Dict {
  const svc = services[name];
  if (!isDict(svc)) throw new Error(`docker-compose.yml has no service "${name}"`);
  return svc;
}

/** environment as a map, whether written as a map or as a KEY=VALUE list. */
function environment(svc: Dict): Record<string, string> {
  const env = svc.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const text = String(entry);
        const eq = text.indexOf('=');
        return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      }),
    );
  }
  if (!isDict(env)) throw new Error('environment must be a map or a list');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  bind: boolean;
}

function mounts(svc: Dict): Mount[] {
  const volumes = Array.isArray(svc.volumes) ? (svc.volumes as unknown[]) : [];
  return volumes.map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = ''] = v.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro'), bind: /^[./~]/.test(source) };
    }
    if (!isDict(v)) throw new Error(`unreadable volume entry ${JSON.stringify(v)}`);
    return {
      source: String(v.source ?? ''),
      target: String(v.target ?? ''),
      readOnly: v.read_only === true,
      bind: v.type === 'bind',
    };
  });
}

/** Host path behind a container path, through the service's bind mounts (longest matching target wins). */
function hostPath(svc: Dict, containerPath: string): string | undefined {
  const candidates = mounts(svc)
    .filter((m) => m.bind && (containerPath === m.target || containerPath.startsWith(`${m.target}/`)))
    .sort((a, b) => b.target.length - a.target.length);
  const m = candidates[0];
  if (!m) return undefined;
  return path.join(path.resolve(ROOT, m.source), path.relative(m.target, containerPath));
}

function dependsOn(svc: Dict): Record<string, string | undefined> {
  const deps = svc.depends_on;
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [String(d), undefined]));
  if (!isDict(deps)) return {};
  return Object.fromEntries(
    Object.entries(deps).map(([name, spec]) => [
      name,
      isDict(spec) ? String(spec.condition ?? '') : undefined,
    ]),
  );
}

function publishedPorts(svc: Dict): Array<{ published: string; target: string; hostIp: string }> {
  const ports = Array.isArray(svc.ports) ? (svc.ports as unknown[]) : [];
  return ports.map((p) => {
    if (isDict(p))
      return {
        published: String(p.published ?? ''),
        target: String(p.target ?? ''),
        hostIp: String(p.host_ip ?? ''),
      };
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = parts[parts.length - 1] ?? '';
    const published = parts.length >= 2 ? (parts[parts.length - 2] ?? '') : '';
    const hostIp = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
    return { published, target, hostIp };
  });
}

function commandText(svc: Dict): string {
  const part = (v: unknown): string =>
    Array.isArray(v) ? v.map(String).join(' ') : v === undefined ? '' : String(v);
  return `${part(svc.entrypoint)} ${part(svc.command)}`.trim();
}

const versionsEnv = Object.fromEntries(
  readFileSync(path.join(ROOT, 'scripts', 'versions.env'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** The promotion workers: the services built from this repository's Dockerfile. */
const workerNames = Object.keys(services).filter((name) => {
  const svc = services[name];
  return isDict(svc) && svc.build !== undefined;
});

/** A file of this repository, parsed as the worker configuration it is. */
function deployedConfig(file: string): { raw: unknown; config: ReturnType<typeof parseConfig> } {
  const raw = parseYaml(readFileSync(file, 'utf8')) as unknown;
  try {
    return { raw, config: parseConfig(raw, file) };
  } catch (err) {
    if (err instanceof ConfigurationError)
      throw new Error(`deploy config does not validate:\n${err.message}`);
    throw err;
  }
}

/** S3-compatible servers whose licence lets anyone run them without sharing their changes (repo licence files). */
const PERMISSIVE_S3_SERVERS: Record<string, string> = {
  'chrislusf/seaweedfs': 'Apache-2.0',
  'zenko/cloudserver': 'Apache-2.0',
  'versity/versitygw': 'Apache-2.0',
  'andrewgaul/s3proxy': 'Apache-2.0',
};

describe('docker-compose.yml', () => {
  test('every image is pinned to an explicit tag (no latest, no untagged image)', () => {
    for (const [name, raw] of Object.entries(services)) {
      if (!isDict(raw)) throw new Error(`service ${name} is not a map`);
      if (raw.image === undefined) {
        expect({ name, build: raw.build !== undefined }).toEqual({ name, build: true });
        continue;
      }
      const image = String(raw.image);
      const lastSegment = image.split('/').pop() ?? '';
      expect({ name, image, tagged: lastSegment.includes(':') || image.includes('@sha256:') }).toEqual({
        name,
        image,
        tagged: true,
      });
      expect({ name, image, tag: lastSegment.split(':')[1] }).not.toEqual({ name, image, tag: 'latest' });
      expect(image).not.toMatch(/\$\{/); // a variable tag can silently become "latest"
    }
  });

  test('PostgreSQL is health-checked, keeps its data in a named volume, and Temporal uses it', () => {
    const pg = service('postgresql');
    const healthcheck = pg.healthcheck;
    expect(isDict(healthcheck) ? JSON.stringify(healthcheck.test) : '').toMatch(/pg_isready/);
    const data = mounts(pg).find((m) => m.target === '/var/lib/postgresql/data');
    expect(data && !data.bind && namedVolumes.includes(data.source)).toBe(true);

    const temporal = service('temporal');
    const env = environment(temporal);
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgresql');
    expect(String(temporal.image)).toMatch(/^temporalio\/server:/);
    expect(dependsOn(temporal)).toMatchObject({
      postgresql: 'service_healthy',
      'temporal-admin-tools': 'service_completed_successfully',
    });
    expect(environment(pg).POSTGRES_USER).toBe(env.POSTGRES_USER);
  });

  test('the schema job migrates both Temporal databases once PostgreSQL is healthy', () => {
    const tools = service('temporal-admin-tools');
    expect(String(tools.image)).toMatch(/^temporalio\/admin-tools:/);
    expect(dependsOn(tools)).toMatchObject({ postgresql: 'service_healthy' });
    const scriptPath = commandText(tools)
      .split(/\s+/)
      .find((w) => w.endsWith('.sh'));
    expect(scriptPath).toBeDefined();
    const host = hostPath(tools, scriptPath!);
    expect(host && existsSync(host)).toBe(true);
    const script = readFileSync(host!, 'utf8');
    for (const db of ['temporal', 'temporal_visibility']) {
      expect(script).toContain(db);
    }
    expect(script).toMatch(/temporal-sql-tool/);
    expect(script).toMatch(/setup-schema/);
    expect(script).toMatch(/update-schema/);
    expect(script).toMatch(/postgresql\/v12/);
  });

  test('Temporal (7233), the Web UI (8080), Prometheus (9090) and Grafana (3000) are published on loopback only, and the UI talks to the server', () => {
    const published: Record<string, string> = {
      temporal: '7233',
      'temporal-ui': '8080',
      prometheus: '9090',
      grafana: '3000',
    };
    for (const [name, port] of Object.entries(published))
      expect({ name, ports: publishedPorts(service(name)) }).toEqual({
        name,
        ports: [{ published: port, target: port, hostIp: '127.0.0.1' }],
      });
    // Nothing else is published at all: the workers' metrics are scraped on the compose network.
    for (const [name, svc] of Object.entries(services)) {
      if (name in published || !isDict(svc)) continue;
      expect({ name, ports: publishedPorts(svc) }).toEqual({ name, ports: [] });
    }
    expect(environment(service('temporal-ui')).TEMPORAL_ADDRESS).toBe('temporal:7233');
    const temporal = service('temporal');
    expect(environment(temporal).BIND_ON_IP).toBe('0.0.0.0');
    expect(isDict(temporal.healthcheck)).toBe(true);
  });

  test('the dynamic config file mounted into Temporal exists and sets what the dev server is started with', () => {
    const temporal = service('temporal');
    const configured = environment(temporal).DYNAMIC_CONFIG_FILE_PATH;
    expect(configured).toBeDefined();
    // The server resolves a relative path against its working directory, /etc/temporal.
    const containerPath = path.posix.isAbsolute(configured!)
      ? configured!
      : path.posix.join('/etc/temporal', configured!);
    const host = hostPath(temporal, containerPath);
    expect(host).toBeDefined();
    expect(existsSync(host!)).toBe(true);
    const dynamic = parseYaml(readFileSync(host!, 'utf8')) as Record<string, Array<{ value: unknown }>>;
    expect(dynamic['frontend.enableUpdateWorkflowExecution']?.[0]?.value).toBe(true);
    for (const [key, value] of Object.entries(SERVER_DYNAMIC_CONFIG))
      expect({ key, value: dynamic[key]?.[0]?.value }).toEqual({ key, value });
  });

  test('the namespace job registers exactly the search attributes of contracts/search-attributes.ts', () => {
    const job = service('temporal-create-namespace');
    expect(String(job.image)).toMatch(/^temporalio\/admin-tools:/);
    expect(dependsOn(job)).toMatchObject({ temporal: 'service_healthy' });
    const env = environment(job);
    expect(env.DEFAULT_NAMESPACE).toBe('default');
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    const registered = (env.SEARCH_ATTRIBUTES ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [name = '', type = ''] = pair.split('=');
        return { name, type };
      });
    const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
    expect([...registered].sort(byName)).toEqual([...SEARCH_ATTRIBUTE_REGISTRATIONS].sort(byName));

    const scriptPath = commandText(job)
      .split(/\s+/)
      .find((w) => w.endsWith('.sh'));
    const host = scriptPath ? hostPath(job, scriptPath) : undefined;
    expect(host && existsSync(host)).toBe(true);
    const script = readFileSync(host!, 'utf8');
    expect(script).toMatch(/temporal operator namespace create/);
    expect(script).toMatch(/temporal operator search-attribute create/);
    expect(script).toContain('$SEARCH_ATTRIBUTES');
  });

  test('each worker starts only after Temporal is healthy and the namespace and bucket jobs have completed', () => {
    expect(workerNames.length).toBeGreaterThan(0);
    for (const name of workerNames) {
      expect({ name, deps: dependsOn(service(name)) }).toEqual({
        name,
        deps: expect.objectContaining({
          temporal: 'service_healthy',
          'temporal-create-namespace': 'service_completed_successfully',
          'artifact-store-bucket': 'service_completed_successfully',
        }),
      });
    }
  });

  test('no literal secret values: secret-looking variables are ${VAR:?} references', () => {
    const secretKey = /SECRET|TOKEN|PASSWORD|PWD|WEBHOOK|ACCESS_KEY/i;
    const reference = /^\$\{[A-Z_][A-Z0-9_]*:\?[^}]*\}$/;
    const offenders: string[] = [];
    for (const [name, raw] of Object.entries(services)) {
      if (!isDict(raw)) continue;
      for (const [key, value] of Object.entries(environment(raw))) {
        if (secretKey.test(key) && !reference.test(value)) offenders.push(`${name}.${key}=${value}`);
      }
      const args = isDict(raw.build) && isDict(raw.build.args) ? raw.build.args : {};
      for (const key of Object.keys(args)) {
        if (secretKey.test(key)) offenders.push(`${name}.build.args.${key} (build args end up in the image)`);
      }
    }
    expect(offenders).toEqual([]);
    expect(existsSync(path.join(ROOT, '.env'))).toBe(false);
  });

  test.each(workerNames)(
    '%s: its mounted config exists, is valid, and reaches Temporal by its service name',
    (name) => {
      const worker = service(name);
      const env = environment(worker);
      const target = env.CDF_PROMOTION_CONFIG ?? '/etc/cdf-promotion/promotion.yaml';
      const mount = mounts(worker).find((m) => m.target === target);
      expect(mount).toMatchObject({ bind: true, readOnly: true });
      const file = path.resolve(ROOT, mount!.source);
      expect(existsSync(file)).toBe(true);

      const { raw, config } = deployedConfig(file);
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.temporal.namespace).toBe(
        environment(service('temporal-create-namespace')).DEFAULT_NAMESPACE,
      );
      expect(config.temporal.uiUrl).toBe('http://localhost:8080');
      expect(config.toolkit.executable).toMatch(/^\/opt\/toolkits\//);

      // The data dir is a named volume, so checkouts and builds survive container replacement.
      const data = mounts(worker).find((m) => m.target === config.dataDir);
      expect(data && !data.bind && namedVolumes.includes(data.source)).toBe(true);

      // Every environment variable the config names is handed to the worker, as a required reference.
      const named = new Set<string>();
      const collect = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(collect);
        else if (isDict(node)) {
          for (const [k, v] of Object.entries(node)) {
            if (/Env$/.test(k) && typeof v === 'string') named.add(v);
            else collect(v);
          }
        }
      };
      collect(raw);
      expect(named.size).toBeGreaterThan(0);
      for (const name of named) {
        expect({ name, value: env[name] }).toEqual({
          name,
          value: expect.stringMatching(new RegExp(`^\\$\\{${name}:\\?`)),
        });
      }
    },
  );
});

describe('docker-compose.yml: several workers and their artifact store', () => {
  const configPath = path.join(ROOT, 'deploy', 'config', 'promotion.yaml');
  const { raw, config } = deployedConfig(configPath);
  const store = service('artifact-store');
  const bucketJob = service('artifact-store-bucket');

  test('two workers run the same image and configuration on one task queue', () => {
    expect(workerNames.length).toBeGreaterThanOrEqual(2);
    const shape = (name: string) => {
      const svc = service(name);
      return {
        build: svc.build,
        image: svc.image,
        env: environment(svc),
        config: mounts(svc).find((m) => m.target === '/etc/cdf-promotion/promotion.yaml')?.source,
      };
    };
    for (const name of workerNames.slice(1)) expect(shape(name)).toEqual(shape(workerNames[0]!));
    // One configuration file, so one task queue and one artifact store.
    expect(new Set(workerNames.map((n) => shape(n).config))).toEqual(
      new Set(['./deploy/config/promotion.yaml']),
    );
    expect(config.temporal.taskQueue).toBe('cdf-promotions');
  });

  test("each worker's data dir is a named volume of its own; only the Toolkit cache is shared", () => {
    const dataVolumes = workerNames.map((name) => {
      const data = mounts(service(name)).find((m) => m.target === config.dataDir);
      expect({ name, named: !!data && !data.bind && namedVolumes.includes(data.source) }).toEqual({
        name,
        named: true,
      });
      return data!.source;
    });
    expect(new Set(dataVolumes).size).toBe(workerNames.length);
    const cache = config.toolkit.versions.install.cacheDir;
    expect(cache.startsWith(`${config.dataDir}/`)).toBe(true);
  });

  test('the artifact store is a pinned S3-compatible server with a permissive licence, not MinIO', () => {
    const image = String(store.image);
    const [repo = '', tag = ''] = image.split(':');
    expect(image).not.toMatch(/minio/i);
    expect({ repo, licence: PERMISSIVE_S3_SERVERS[repo] }).toEqual({ repo, licence: 'Apache-2.0' });
    expect(tag).toMatch(/^\d+(\.\d+)+$/);
    // SeaweedFS: one process with master, volume, filer and the S3 gateway; data in a named volume.
    expect(commandText(store)).toMatch(/^server -s3 -s3\.port=8333$/);
    const data = mounts(store).find((m) => m.target === '/data');
    expect(data && !data.bind && namedVolumes.includes(data.source)).toBe(true);
    expect(publishedPorts(store)).toEqual([]);
  });

  test('the workers use it: artifacts.store s3 at the compose service, the bucket the bucket job creates', () => {
    expect(config.artifacts).toMatchObject({
      store: 's3',
      endpoint: 'http://artifact-store:8333',
      forcePathStyle: true,
    });
    const jobEnv = environment(bucketJob);
    expect(jobEnv.ARTIFACT_BUCKET).toBe(config.artifacts.bucket);
    expect(jobEnv.AWS_ENDPOINT_URL).toBe(config.artifacts.endpoint);
    expect(String(bucketJob.image)).toMatch(/^amazon\/aws-cli:\d+(\.\d+)+$/);
    expect(dependsOn(bucketJob)).toMatchObject({ 'artifact-store': 'service_started' });
    const scriptPath = commandText(bucketJob)
      .split(/\s+/)
      .find((w) => w.endsWith('.sh'));
    const host = scriptPath ? hostPath(bucketJob, scriptPath) : undefined;
    expect(host && existsSync(host)).toBe(true);
    const script = readFileSync(host!, 'utf8');
    expect(script).toMatch(/aws s3api head-bucket --bucket "\$ARTIFACT_BUCKET"/);
    expect(script).toMatch(/aws s3api create-bucket --bucket "\$ARTIFACT_BUCKET"/);
  });

  test('its keys are never written down: the same ${VAR:?} references reach the store, the job and the workers', () => {
    const keyVars = {
      AWS_ACCESS_KEY_ID: 'ARTIFACT_STORE_ACCESS_KEY_ID',
      AWS_SECRET_ACCESS_KEY: 'ARTIFACT_STORE_SECRET_ACCESS_KEY',
    };
    for (const name of ['artifact-store', 'artifact-store-bucket', ...workerNames]) {
      const env = environment(service(name));
      for (const [inside, outside] of Object.entries(keyVars))
        expect({ name, inside, value: env[inside] }).toEqual({
          name,
          inside,
          value: expect.stringMatching(new RegExp(`^\\$\\{${outside}:\\?[^}]*\\}$`)),
        });
    }
    const example = readFileSync(path.join(ROOT, 'deploy', 'secrets.env.example'), 'utf8');
    for (const outside of Object.values(keyVars)) expect(example).toMatch(new RegExp(`^${outside}=$`, 'm'));
    // The worker configuration has no place for them (refused at start-up) and holds none.
    const artifactsKeys = Object.keys((raw as { artifacts: Record<string, unknown> }).artifacts);
    expect(artifactsKeys.filter((k) => /key|secret|token|credential/i.test(k))).toEqual([]);
    expect(readFileSync(configPath, 'utf8')).not.toMatch(/\bAKIA[0-9A-Z]{12,}/); // an AWS access key id
  });
});

// ---- metrics: Prometheus and Grafana --------------------------------------------------------------------------

/** Every metric name a query may use: ours and the SDK's (histograms with their series suffixes), and `up`. */
const KNOWN_METRICS = new Set([
  ...[...METRICS.map((m) => m.name), ...SDK_METRICS].flatMap((name) => [
    name,
    `${name}_bucket`,
    `${name}_count`,
    `${name}_sum`,
  ]),
  'up', // Prometheus's own, per scrape target
]);

/** PromQL words that look like metric names: aggregation modifiers, set operators, `bool`, `offset`. */
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool']);
const PROMQL_WORDS_ANY_CASE = new Set(['and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, range windows and label lists are removed
 * first (they hold label names and Grafana variables); what is left that is not a function call or a keyword is a
 * metric name.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...stripped.matchAll(/(?<![\w.$:])[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((m) => !/^\s*\(/.test(stripped.slice(m.index + m[0].length)))
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w) && !PROMQL_WORDS_ANY_CASE.has(w.toLowerCase()));
}

function readYaml(file: string): unknown {
  return parseYaml(readFileSync(file, 'utf8')) as unknown;
}

/** The value of a `--flag=value` argument in a service's command. */
function flag(svc: Dict, name: string): string | undefined {
  const args = Array.isArray(svc.command) ? svc.command.map(String) : commandText(svc).split(/\s+/);
  const arg = args.find((a) => a.startsWith(`${name}=`));
  return arg?.slice(name.length + 1);
}

describe('docker-compose.yml: metrics, Prometheus and Grafana', () => {
  const { config } = deployedConfig(path.join(ROOT, 'deploy', 'config', 'promotion.yaml'));
  const prometheus = service('prometheus');
  const grafana = service('grafana');
  const prometheusConfigFile = hostPath(prometheus, flag(prometheus, '--config.file') ?? '');
  const prometheusConfig = prometheusConfigFile ? readYaml(prometheusConfigFile) : undefined;

  test('the PromQL checker finds metric names and nothing else', () => {
    expect(
      metricNames(
        'sum by (environment, le) (rate(foo_bucket{a="b{c}", d=~"$env"}[$window])) / on(x) group_left bar offset 5m > bool 0.5 and Baz',
      ),
    ).toEqual(['foo_bucket', 'bar', 'Baz']);
    expect(metricNames('histogram_quantile(0.95, sum by (le) (increase(x_seconds_bucket[1h])))')).toEqual([
      'x_seconds_bucket',
    ]);
  });

  test('Prometheus and Grafana are pinned official images', () => {
    expect(String(prometheus.image)).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(String(grafana.image)).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
  });

  test('every worker serves metrics, on all its interfaces (Prometheus is another container)', () => {
    expect(config.metrics).toMatchObject({ enabled: true, host: '0.0.0.0' });
  });

  test('Prometheus scrapes exactly the worker services, on the metrics port of deploy/config/promotion.yaml', () => {
    expect(prometheusConfigFile && existsSync(prometheusConfigFile)).toBe(true);
    const mount = mounts(prometheus).find(
      (m) => m.bind && prometheusConfigFile?.startsWith(path.resolve(ROOT, m.source)),
    );
    expect(mount?.readOnly).toBe(true);
    const jobs =
      (prometheusConfig as { scrape_configs?: Array<Record<string, unknown>> }).scrape_configs ?? [];
    const targets = jobs.flatMap((job) =>
      ((job.static_configs as Array<{ targets: string[] }> | undefined) ?? []).flatMap((c) => c.targets),
    );
    expect(workerNames.length).toBeGreaterThanOrEqual(2);
    expect([...targets].sort()).toEqual(workerNames.map((name) => `${name}:${config.metrics.port}`).sort());
    // Its data survives container replacement.
    const data = mounts(prometheus).find((m) => m.target === flag(prometheus, '--storage.tsdb.path'));
    expect(data && !data.bind && namedVolumes.includes(data.source)).toBe(true);
  });

  test('the alert rules Prometheus loads exist and use only metrics the code defines', () => {
    const ruleFiles = (prometheusConfig as { rule_files?: string[] }).rule_files ?? [];
    expect(ruleFiles.length).toBeGreaterThan(0);
    const alerts: string[] = [];
    for (const file of ruleFiles) {
      const host = hostPath(prometheus, file);
      expect({ file, exists: !!host && existsSync(host) }).toEqual({ file, exists: true });
      const groups = (readYaml(host!) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> })
        .groups;
      for (const rule of groups.flatMap((g) => g.rules)) {
        alerts.push(rule.alert);
        const names = metricNames(rule.expr);
        expect({ alert: rule.alert, used: names.length > 0 }).toEqual({ alert: rule.alert, used: true });
        for (const name of names)
          expect({ alert: rule.alert, name, known: KNOWN_METRICS.has(name) }).toEqual({
            alert: rule.alert,
            name,
            known: true,
          });
      }
    }
    // The ones docs/operations.md explains.
    const doc = readFileSync(path.join(ROOT, 'docs', 'operations.md'), 'utf8');
    for (const alert of alerts)
      expect({ alert, documented: doc.includes(alert) }).toEqual({ alert, documented: true });
  });

  test("Grafana's admin password comes only from the secrets file; no anonymous access, no sign-up", () => {
    const env = environment(grafana);
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]*\}$/);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(env.GF_USERS_ALLOW_SIGN_UP).toBe('false');
    const example = readFileSync(path.join(ROOT, 'deploy', 'secrets.env.example'), 'utf8');
    expect(example).toMatch(/^GRAFANA_ADMIN_PASSWORD=$/m);
  });

  describe('Grafana provisioning', () => {
    const provisioning = hostPath(grafana, '/etc/grafana/provisioning');
    const datasourceFiles = provisioning
      ? readdirSync(path.join(provisioning, 'datasources')).map((f) =>
          path.join(provisioning, 'datasources', f),
        )
      : [];
    const datasources = datasourceFiles.flatMap(
      (f) => (readYaml(f) as { datasources: Array<Record<string, unknown>> }).datasources,
    );
    const providers = provisioning
      ? readdirSync(path.join(provisioning, 'dashboards')).flatMap(
          (f) =>
            (
              readYaml(path.join(provisioning, 'dashboards', f)) as {
                providers: Array<{ options: { path: string } }>;
              }
            ).providers,
        )
      : [];
    const dashboardFiles = providers.flatMap((p) => {
      const dir = hostPath(grafana, p.options.path);
      return dir
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.json'))
            .map((f) => path.join(dir, f))
        : [];
    });
    const dashboards = dashboardFiles.map(
      (f) =>
        JSON.parse(readFileSync(f, 'utf8')) as {
          uid: string;
          panels: Array<Record<string, unknown>>;
          templating?: { list: Array<Record<string, unknown>> };
        },
    );

    test('mounts read-only a Prometheus data source at the prometheus service', () => {
      for (const m of mounts(grafana).filter((m) => m.bind))
        expect({ m: m.target, ro: m.readOnly }).toEqual({ m: m.target, ro: true });
      expect(datasources).toEqual([
        expect.objectContaining({
          type: 'prometheus',
          url: 'http://prometheus:9090',
          uid: expect.any(String),
        }),
      ]);
    });

    test('provisions the dashboard, the home dashboard among them', () => {
      expect(dashboards.map((d) => d.uid)).toContain('cdf-promote');
      const home = hostPath(grafana, environment(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '');
      expect(home && dashboardFiles.includes(home)).toBe(true);
    });

    /** Every panel of a dashboard (rows may nest theirs) with its PromQL queries. */
    const panels = dashboards.flatMap((d) =>
      d.panels.flatMap((p) => [p, ...((p.panels as Array<Record<string, unknown>> | undefined) ?? [])]),
    );
    const queries = panels.flatMap((p) =>
      ((p.targets as Array<{ expr?: string; datasource?: { uid?: string } }> | undefined) ?? []).map((t) => ({
        panel: String(p.title),
        expr: t.expr ?? '',
        datasource: t.datasource?.uid ?? (p.datasource as { uid?: string } | undefined)?.uid,
      })),
    );

    test('every query reads the provisioned data source and only metrics the code defines', () => {
      expect(queries.length).toBeGreaterThan(10);
      const uid = datasources[0]?.uid;
      for (const q of queries) {
        expect({ panel: q.panel, datasource: q.datasource }).toEqual({ panel: q.panel, datasource: uid });
        const names = metricNames(q.expr);
        expect({ panel: q.panel, used: names.length > 0 }).toEqual({ panel: q.panel, used: true });
        for (const name of names)
          expect({ panel: q.panel, name, known: KNOWN_METRICS.has(name) }).toEqual({
            panel: q.panel,
            name,
            known: true,
          });
      }
      // Variables that query Prometheus, too.
      for (const v of dashboards.flatMap((d) => d.templating?.list ?? [])) {
        const query =
          typeof v.query === 'object' && v.query ? (v.query as { query?: string }).query : undefined;
        const m = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(query ?? '');
        if (query !== undefined)
          expect({ variable: v.name, name: m?.[1], known: KNOWN_METRICS.has(m?.[1] ?? '') }).toEqual({
            variable: v.name,
            name: m?.[1],
            known: true,
          });
      }
    });

    test('shows every metric of ours and the SDK panels: task slots and schedule-to-start latency', () => {
      const used = new Set(queries.flatMap((q) => metricNames(q.expr)));
      const base = (name: string) => name.replace(/_(bucket|count|sum)$/, '');
      const usedBase = new Set([...used].map(base));
      for (const m of METRICS)
        expect({ metric: m.name, shown: usedBase.has(m.name) }).toEqual({ metric: m.name, shown: true });
      for (const name of [
        'temporal_worker_task_slots_available',
        'temporal_workflow_task_schedule_to_start_latency',
        'temporal_activity_schedule_to_start_latency',
      ])
        expect({ metric: name, shown: usedBase.has(name) }).toEqual({ metric: name, shown: true });
    });
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(DOCKERFILE, 'utf8').replace(/\\\n/g, ' ');
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.reduce<string[][]>((acc, line) => {
    if (/^FROM\s/i.test(line)) acc.push([line]);
    else acc[acc.length - 1]?.push(line);
    return acc;
  }, []);
  const finalStage = stages[stages.length - 1] ?? [];
  const toolkitVersions = (versionsEnv.COGNITE_TOOLKIT_VERSIONS ?? '')
    .replace(/"/g, '')
    .split(/\s+/)
    .filter(Boolean);

  test('base images are pinned', () => {
    const args = Object.fromEntries(
      lines
        .filter((l) => /^ARG\s+\w+=/.test(l))
        .map((l) => {
          const [k = '', v = ''] = l.replace(/^ARG\s+/, '').split('=');
          return [k, v];
        }),
    );
    for (const stage of stages) {
      const image = (stage[0] ?? '').split(/\s+/)[1] ?? '';
      const resolved = image.replace(/^\$\{?(\w+)\}?$/, (_, name: string) => args[name] ?? '');
      expect(resolved).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(resolved).not.toMatch(/:latest$/);
    }
  });

  test("the worker image runs with the environment the worker's launchers give it (malloc arenas, young generation)", () => {
    const env = finalStage.filter((l) => /^ENV\s/.test(l)).join(' ');
    for (const [key, value] of Object.entries(WORKER_PROCESS_ENV))
      expect(env).toMatch(new RegExp(`\\b${key}=${value}\\b`));
  });

  test('pins authlib beside the Toolkit, as scripts/versions.env does (0.8.271 imports it undeclared)', () => {
    expect(finalStage).toContain(`ARG AUTHLIB_VERSION=${versionsEnv.AUTHLIB_VERSION}`);
    // Only for 0.8.x: 0.9.x declares it.
    expect(finalStage.join('\n')).toMatch(/0\.8\.\*\) extra="authlib==\$\{AUTHLIB_VERSION\}"/);
  });

  test('prebuilds every Toolkit version of scripts/versions.env, each in its own virtualenv', () => {
    expect(toolkitVersions.length).toBeGreaterThanOrEqual(2);
    expect(finalStage).toContain(`ARG COGNITE_TOOLKIT_VERSIONS="${toolkitVersions.join(' ')}"`);
    const stage = finalStage.join('\n');
    expect(stage).toMatch(/for v in \$\{COGNITE_TOOLKIT_VERSIONS\}/);
    expect(stage).toMatch(/python3 -m venv "\/opt\/toolkits\/\$v"/);
    expect(stage).toMatch(/pip" install[^\n]*"cognite-toolkit==\$v"/);
    for (const name of workerNames) {
      const build = service(name).build;
      const composeArg =
        isDict(build) && isDict(build.args) ? build.args.COGNITE_TOOLKIT_VERSIONS : undefined;
      expect({ name, arg: String(composeArg) }).toEqual({ name, arg: toolkitVersions.join(' ') });
    }
  });

  test('the deployed configuration runs the prebuilt versions and caches others on a volume', () => {
    const cfg = parseConfig(
      parseYaml(readFileSync(path.join(ROOT, 'deploy', 'config', 'promotion.yaml'), 'utf8')),
      '/etc/cdf-promotion/promotion.yaml',
    );
    expect(cfg.toolkit.versions.installed).toEqual(
      Object.fromEntries(toolkitVersions.map((v) => [v, `/opt/toolkits/${v}/bin/cdf`])),
    );
    expect(cfg.toolkit.executable).toMatch(/^\/opt\/toolkits\/[\d.]+\/bin\/cdf$/);
    const cache = cfg.toolkit.versions.install.cacheDir;
    for (const name of workerNames)
      expect({
        name,
        cached: mounts(service(name)).some((m) => m.target === cache && m.source === 'toolkit-cache'),
      }).toEqual({ name, cached: true });
    expect(namedVolumes).toContain('toolkit-cache');
  });

  test('the runtime image has git and Python for on-demand installs', () => {
    const stage = finalStage.join('\n');
    expect(stage).toMatch(/apt-get install[^\n]*\bgit\b/);
    expect(stage).toMatch(/python3-venv/);
  });

  test('runs as a non-root user', () => {
    const users = finalStage.filter((l) => /^USER\s/i.test(l));
    const last = users[users.length - 1]?.split(/\s+/)[1];
    expect(last).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(last);
  });

  test('starts the compiled worker with the config path the compose file mounts', () => {
    const cmd = finalStage.filter((l) => /^CMD\s/i.test(l)).pop();
    expect(JSON.parse(cmd!.replace(/^CMD\s+/i, ''))).toEqual(['node', 'dist/worker/main.js']);
    expect(existsSync(path.join(ROOT, 'worker', 'main.ts'))).toBe(true);
    expect(finalStage.join('\n')).toMatch(/CDF_PROMOTION_CONFIG=\/etc\/cdf-promotion\/promotion\.yaml/);
    for (const name of workerNames) {
      const mount = mounts(service(name)).find((m) => m.target === '/etc/cdf-promotion/promotion.yaml');
      expect({ name, mounted: mount !== undefined }).toEqual({ name, mounted: true });
    }
  });

  test('the image holds production code only: no fake CDF, scripts, tests or benchmarks', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    const copies = stages.flat().filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l));
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const dir of ['fakes', 'scripts', 'test', 'bench', 'examples']) {
      expect({ dir, compiled: tsconfig.include.includes(dir) }).toEqual({ dir, compiled: false });
      expect({ dir, copied: copies.some((l) => new RegExp(`\\s${dir}(/|\\s)`).test(l)) }).toEqual({
        dir,
        copied: false,
      });
      expect({ dir, ignored: ignored.includes(dir) }).toEqual({ dir, ignored: true });
    }
  });

  test('the build stage copies every source folder that tsconfig.build.json compiles', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    const copied = new Set(
      (stages[0] ?? [])
        .filter((l) => /^COPY\s/i.test(l))
        .flatMap((l) =>
          l
            .replace(/^COPY\s+(--\S+\s+)*/i, '')
            .split(/\s+/)
            .slice(0, -1)
            // `COPY config/*.ts ./config/` copies the folder's sources.
            .map((src) => src.replace(/\/(\*\.ts)?$/, '')),
        ),
    );
    for (const dir of tsconfig.include)
      expect({ dir, copied: copied.has(dir) }).toEqual({ dir, copied: true });
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const dir of [...tsconfig.include, 'package.json', 'package-lock.json', 'tsconfig.json']) {
      expect(ignored).not.toContain(dir);
    }
  });
});
