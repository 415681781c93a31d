/**
 * Reads and validates the worker configuration file. Relative paths are resolved against the file's folder so a
 * configuration works the same whatever directory the worker or CLI is started from.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigurationError } from '../contracts/errors';
import { dataLayout } from './data-layout';
import { CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH } from './defaults';
import { ownEntry } from '../contracts/own-entry';
import { parseAllowedSigners } from './allowed-signers';
import { configSchema, type WorkerConfig } from './schema';
import { BUILTIN_PROFILES } from './toolkit-profiles';

export { CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH };

/** Validates an already-parsed object; `source` names the file in error messages. */
export function parseConfig(raw: unknown, source: string): WorkerConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      // zod reports a bad record key as "Invalid key in record" with the reason nested one level down.
      const nested =
        'issues' in issue && Array.isArray(issue.issues)
          ? (issue.issues as Array<{ message: string }>).map((i) => i.message)
          : [];
      const message = nested.length ? `${issue.message}: ${nested.join('; ')}` : issue.message;
      return `  - ${issue.path.length ? issue.path.join('.') : '(top level)'}: ${message}`;
    });
    throw new ConfigurationError(`invalid configuration in ${source}:\n${problems.join('\n')}`);
  }
  const cfg = result.data;
  const base = path.dirname(path.resolve(source));
  const isRemote =
    /^[a-z][a-z0-9+.-]*:\/\//i.test(cfg.repository.url) || /^[^/]+@[^:]+:/.test(cfg.repository.url);
  const commands =
    cfg.toolkit.profile === 'custom' ? cfg.toolkit.custom! : BUILTIN_PROFILES[cfg.toolkit.profile];
  const executable = cfg.toolkit.executable.includes('/')
    ? path.resolve(base, cfg.toolkit.executable)
    : cfg.toolkit.executable;
  const { custom: _custom, versions, ...toolkit } = cfg.toolkit;
  const dataDir = path.resolve(base, cfg.dataDir);
  const cacheDir = versions.install.cacheDir ? path.resolve(base, versions.install.cacheDir) : undefined;
  // The cache evicts old versions: it must be a folder of its own, not the data dir or one holding it.
  if (cacheDir && (cacheDir === dataDir || dataDir.startsWith(cacheDir + path.sep))) {
    throw new ConfigurationError(
      `invalid configuration in ${source}:\n  - toolkit.versions.install.cacheDir: must be a folder of its own, not dataDir or a folder that holds it`,
    );
  }
  const artifactsDir = cfg.artifacts.dir
    ? path.resolve(base, cfg.artifacts.dir)
    : dataLayout(dataDir).artifacts;
  // The cache evicts what it does not recognise as a recent version: plans must never live in it.
  if (cacheDir && (artifactsDir === cacheDir || artifactsDir.startsWith(cacheDir + path.sep))) {
    throw new ConfigurationError(
      `invalid configuration in ${source}:\n  - artifacts.dir: must not be inside toolkit.versions.install.cacheDir`,
    );
  }
  const resolveExecutable = (p: string) => (p.includes('/') ? path.resolve(base, p) : p);
  const allowedSignersFile = cfg.allowedSignersFile ? path.resolve(base, cfg.allowedSignersFile) : undefined;
  const people = withAllowedSigners(cfg.people, allowedSignersFile, source);
  const unsigned = Object.entries(cfg.environments).flatMap(([name, env]) =>
    env.approval.identity !== 'signed'
      ? []
      : env.approval.approvers
          .filter((a) => !ownEntry(people, a)?.keys.length)
          .map(
            (a) =>
              `  - environments.${name}.approval.approvers: "${a}" has no key (people.${a}.keys or allowedSignersFile), but ${name} is signed`,
          ),
  );
  if (unsigned.length)
    throw new ConfigurationError(`invalid configuration in ${source}:\n${unsigned.join('\n')}`);
  return {
    ...cfg,
    source: path.resolve(source),
    dataDir,
    artifacts: { ...cfg.artifacts, dir: artifactsDir },
    people,
    ...(allowedSignersFile ? { allowedSignersFile } : {}),
    repository: {
      ...cfg.repository,
      url: isRemote ? cfg.repository.url : path.resolve(base, cfg.repository.url),
    },
    toolkit: {
      ...toolkit,
      executable,
      commands,
      versions: {
        installed: Object.fromEntries(
          Object.entries(versions.installed).map(([v, p]) => [v, resolveExecutable(p)]),
        ),
        install: {
          ...versions.install,
          cacheDir: cacheDir ?? dataLayout(dataDir).toolkits,
        },
      },
    },
  };
}

/** people, with the keys of the allowed-signers file added to the principals they name. */
function withAllowedSigners(
  people: WorkerConfig['people'],
  file: string | undefined,
  source: string,
): WorkerConfig['people'] {
  if (!file) return people;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigurationError(
      `invalid configuration in ${source}:\n  - allowedSignersFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const { signers, problems } = parseAllowedSigners(text);
  if (problems.length)
    throw new ConfigurationError(
      `invalid configuration in ${source}:\n${problems.map((p) => `  - allowedSignersFile ${file} ${p}`).join('\n')}`,
    );
  const merged: WorkerConfig['people'] = Object.fromEntries(
    Object.entries(people).map(([name, p]) => [name, { keys: [...p.keys], emails: [...p.emails] }]),
  );
  for (const { person, key } of signers) {
    const entry = ownEntry(merged, person) ?? (merged[person] = { keys: [], emails: [] });
    if (!entry.keys.includes(key)) entry.keys.push(key);
  }
  return merged;
}

/** A worker configuration is a page or two of YAML; anything bigger is a mistake (or an attack on the parser). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export function loadConfig(file = process.env[CONFIG_ENV_VAR] ?? DEFAULT_CONFIG_PATH): WorkerConfig {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES)
      throw new ConfigurationError(
        `configuration file ${path.resolve(file)} is ${size} bytes; the limit is ${MAX_CONFIG_BYTES} (1 MiB)`,
      );
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigurationError) throw err;
    throw new ConfigurationError(
      `cannot read configuration file ${path.resolve(file)} (set ${CONFIG_ENV_VAR} to choose another): ${(err as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigurationError(
      `configuration file ${path.resolve(file)} is not valid YAML: ${(err as Error).message}`,
    );
  }
  return parseConfig(raw, file);
}
