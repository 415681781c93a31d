/**
 * Worker configuration: one YAML file, validated at start-up. Secrets never appear here, only the names of the
 * environment variables that hold them. Relative paths are resolved against the config file's folder so a
 * config works the same whatever directory the worker is started from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigurationError } from '../contracts/errors';
import { DEFAULT_TASK_QUEUE } from '../contracts/messages';
import { parseDuration } from './duration';
import {
  BUILTIN_PROFILES,
  PROFILE_PLACEHOLDERS,
  type CommandProfile,
} from '../activities/toolkit/command-profiles';

export const CONFIG_ENV_VAR = 'CDF_PROMOTION_CONFIG';
export const DEFAULT_CONFIG_PATH = 'config/promotion.yaml';

const duration = z.union([z.string(), z.number().int().positive()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

// Env var names only: a value that looks like a secret in this position is refused outright.
const envVarName = z
  .string()
  .regex(
    /^[A-Z_][A-Z0-9_]*$/,
    'must be the NAME of an environment variable (upper-case, digits, "_"), not a value',
  );

const argvTemplate = z
  .array(z.string().min(1))
  .min(1, 'must list at least the executable')
  .superRefine((argv, ctx) => {
    for (const [i, arg] of argv.entries()) {
      for (const match of arg.matchAll(/\{([a-zA-Z]+)\}/g)) {
        if (!(PROFILE_PLACEHOLDERS as readonly string[]).includes(match[1]!)) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `unknown placeholder {${match[1]}}; known: ${PROFILE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
          });
        }
      }
    }
  });

const credentialsSchema = z.discriminatedUnion('flow', [
  z.object({ flow: z.literal('token'), tokenEnv: envVarName }).strict(),
  z
    .object({
      flow: z.literal('client_credentials'),
      clientIdEnv: envVarName,
      clientSecretEnv: envVarName,
      tokenUrl: z.url(),
      scopes: z.array(z.string()).optional(),
      audience: z.string().optional(),
    })
    .strict(),
]);

const alertChannelSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('webhook'),
      name: z.string().optional(),
      // Webhook URLs often embed a token, so the URL itself is read from an env var.
      urlEnv: envVarName,
      headersEnv: z.record(z.string(), envVarName).optional(),
    })
    .strict(),
  z.object({ type: z.literal('slack'), name: z.string().optional(), urlEnv: envVarName }).strict(),
]);

const smokeSchema = z
  .object({
    dataModels: z
      .array(z.object({ space: z.string(), externalId: z.string(), version: z.string() }).strict())
      .default([]),
    minAssets: z.number().int().nonnegative().default(0),
    transformations: z
      .array(
        z
          .object({ externalId: z.string(), window: duration.optional() })
          .strict()
          .transform((t) => ({ externalId: t.externalId, windowMs: t.window ?? 3_600_000 })),
      )
      .default([]),
  })
  .strict();

const approvalSchema = z
  .object({
    timeout: duration.default(72 * 3_600_000),
    approvers: z.array(z.string().min(1)).min(1, 'list at least one approver'),
    requiredApprovals: z.number().int().min(1).default(1),
    allowSelfApproval: z.boolean().default(false),
    rollbackRequiresApproval: z.boolean().default(true),
  })
  .strict()
  .refine((a) => a.requiredApprovals <= a.approvers.length, {
    path: ['requiredApprovals'],
    message: 'cannot exceed the number of approvers; such runs could only expire',
  });

const environmentSchema = z
  .object({
    cdfProject: z.string().min(1),
    baseUrl: z.url(),
    cluster: z.string().default('sandbox'),
    configFile: z.string().optional(),
    credentials: credentialsSchema,
    approval: approvalSchema,
    smoke: smokeSchema.default({ dataModels: [], minAssets: 0, transformations: [] }),
    alerts: z.array(alertChannelSchema).default([]),
    rollback: z
      .object({
        // Off by default: deleting is the one step a rollback cannot take back by re-deploying.
        removeLeftovers: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const profileSchema = z
  .object({
    build: argvTemplate.optional(),
    diff: argvTemplate,
    apply: argvTemplate,
    clean: argvTemplate.optional(),
  })
  .strict();

const configSchema = z
  .object({
    temporal: z
      .object({
        address: z.string().default('127.0.0.1:7233'),
        namespace: z.string().default('default'),
        taskQueue: z.string().default(DEFAULT_TASK_QUEUE),
        uiUrl: z.string().default('http://127.0.0.1:8233'),
      })
      .strict()
      .default({
        address: '127.0.0.1:7233',
        namespace: 'default',
        taskQueue: DEFAULT_TASK_QUEUE,
        uiUrl: 'http://127.0.0.1:8233',
      }),
    repository: z
      .object({
        url: z.string().min(1),
        projectDir: z.string().default('.'),
        organizationDir: z.string().default('.'),
      })
      .strict(),
    dataDir: z.string().default('../data'),
    toolkit: z
      .object({
        profile: z.enum(['cdf', 'playbook', 'custom']).default('cdf'),
        executable: z.string().default('cdf'),
        custom: profileSchema.optional(),
        timeouts: z
          .object({
            build: duration.default(10 * 60_000),
            diff: duration.default(15 * 60_000),
            apply: duration.default(60 * 60_000),
          })
          .strict()
          .default({ build: 10 * 60_000, diff: 15 * 60_000, apply: 60 * 60_000 }),
        env: z.record(envVarName, z.string()).default({}),
        // The Toolkit has no telemetry opt-out; PYTEST_CURRENT_TEST is the one switch that stops its Mixpanel
        // calls (which also stall ~2-3 min per command on hosts without internet access).
        disableTelemetry: z.boolean().default(true),
      })
      .strict()
      .superRefine((tk, ctx) => {
        if (tk.profile === 'custom' && !tk.custom) {
          ctx.addIssue({ code: 'custom', path: ['custom'], message: 'required when profile is "custom"' });
        }
      })
      // prefault, not default: the empty object is parsed, so every toolkit default applies.
      .prefault({}),
    environments: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'environment names must be lower-case'),
        environmentSchema,
      )
      .refine((envs) => Object.keys(envs).length > 0, 'configure at least one environment'),
  })
  .strict();

export type RawConfig = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;
export type EnvironmentConfig = ParsedConfig['environments'][string];
export type AlertChannelConfig = EnvironmentConfig['alerts'][number];
export type CredentialsConfig = EnvironmentConfig['credentials'];
export type SmokeConfig = EnvironmentConfig['smoke'];

export interface WorkerConfig extends Omit<ParsedConfig, 'toolkit'> {
  /** Absolute path of the file it was read from (for messages). */
  source: string;
  dataDir: string;
  toolkit: Omit<ParsedConfig['toolkit'], 'custom'> & { commands: CommandProfile };
}

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
  const { custom: _custom, ...toolkit } = cfg.toolkit;
  return {
    ...cfg,
    source: path.resolve(source),
    dataDir: path.resolve(base, cfg.dataDir),
    repository: {
      ...cfg.repository,
      url: isRemote ? cfg.repository.url : path.resolve(base, cfg.repository.url),
    },
    toolkit: { ...toolkit, executable, commands },
  };
}

export function loadConfig(file = process.env[CONFIG_ENV_VAR] ?? DEFAULT_CONFIG_PATH): WorkerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
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
