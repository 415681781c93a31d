/**
 * The worker configuration's schema: one YAML file, validated at start-up. Secrets never appear here, only the
 * names of the environment variables that hold them. Worker, activities, CLI and the documentation test all read
 * this module; it imports nothing of theirs.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  APPROVAL_DEFAULTS,
  ARTIFACT_DEFAULTS,
  DEFAULT_CDF_CLUSTER,
  DEFAULT_DATA_DIR,
  METRICS_DEFAULTS,
  PAGERDUTY_DEFAULT_SEVERITY,
  PAGERDUTY_SEVERITIES,
  TEMPORAL_DEFAULTS,
  TOOLKIT_DEFAULTS,
  TOOLKIT_INSTALL_DEFAULTS,
  TRANSFORMATION_WINDOW_MS,
  WORKER_DEFAULTS,
} from './defaults';
import { TIME_OF_DAY, WEEKDAYS, isTimeZone } from './deploy-windows';
import { parseDuration } from './duration';
import { PROFILE_PLACEHOLDERS, type CommandProfile } from './toolkit-profiles';
import { WHEN_BUSY } from '../contracts/environment-entity';
import { ownEntry } from '../contracts/own-entry';
import { personNameSchema } from '../contracts/person-name';
import { parseSshPublicKey } from '../contracts/ssh-signature';

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
      // The Toolkit's client_credentials login with provider "other" (what the worker uses) refuses to run
      // without IDP_AUDIENCE, in 0.8.x and 0.9.x alike: require it here, at start-up, not at the first deploy.
      audience: z
        .string({
          error: (issue) =>
            issue.input === undefined
              ? 'required for client_credentials: the Toolkit needs IDP_AUDIENCE, usually https://<cluster>.cognitedata.com'
              : 'must be a string',
        })
        .min(1, 'must not be empty'),
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
  // An incoming webhook or a Workflows (Power Automate) webhook: either URL carries its credential (`sig=`).
  z.object({ type: z.literal('teams'), name: z.string().optional(), urlEnv: envVarName }).strict(),
  z
    .object({
      type: z.literal('pagerduty'),
      name: z.string().optional(),
      // The integration's routing key is what lets anyone open incidents on the service: a secret.
      routingKeyEnv: envVarName,
      // The Events API v2 endpoint is not a secret (EU accounts use events.eu.pagerduty.com); urlEnv is for
      // endpoints that are, or that differ per deployment. Neither: PAGERDUTY_EVENTS_URL.
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
      urlEnv: envVarName.optional(),
      severity: z.enum(PAGERDUTY_SEVERITIES).default(PAGERDUTY_DEFAULT_SEVERITY),
    })
    .strict()
    .refine((c) => !(c.url && c.urlEnv), {
      path: ['urlEnv'],
      message: 'give url or urlEnv, not both',
    }),
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
          .transform((t) => ({ externalId: t.externalId, windowMs: t.window ?? TRANSFORMATION_WINDOW_MS })),
      )
      .default([]),
  })
  .strict();

const groupName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'group names are lower-case (letters, digits, - and _)');

const approvalSchema = z
  .object({
    timeout: duration.default(APPROVAL_DEFAULTS.timeoutMs),
    approvers: z
      .array(personNameSchema)
      .min(1, 'list at least one approver')
      .superRefine((names, ctx) => {
        const seen = new Set<string>();
        for (const [i, name] of names.entries()) {
          if (seen.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `"${name}" is listed twice (names are compared after normalization: case, Unicode forms)`,
            });
          }
          seen.add(name);
        }
      }),
    requiredApprovals: z.number().int().min(1).default(APPROVAL_DEFAULTS.requiredApprovals),
    allowSelfApproval: z.boolean().default(false),
    rollbackRequiresApproval: z.boolean().default(true),
    // Reminders to the environment's alert channels while a run waits; none when absent.
    remindEvery: duration.optional(),
    // When the dry-run right before the apply differs from the approved plan: ask again, or fail the run.
    onPlanChange: z.enum(['reapprove', 'fail']).default('reapprove'),
    // Named groups of approvers (members must be approvers) and the approvals each must give.
    groups: z.record(groupName, z.array(personNameSchema).min(1, 'list at least one member')).default({}),
    requiredFromGroups: z.record(groupName, z.number().int().min(1)).default({}),
    // name: people are who their payload says (fine for dev). signed: every request and decision carries an SSH
    // signature of a registered key (people.<name>.keys or allowedSignersFile), verified by the workflow.
    identity: z.enum(['name', 'signed']).default(APPROVAL_DEFAULTS.identity),
    signatureMaxAge: duration.default(APPROVAL_DEFAULTS.signatureMaxAgeMs),
    // People who authored commits in the promoted range (matched by people.<name>.emails) may not approve it.
    excludeCommitAuthors: z.boolean().default(APPROVAL_DEFAULTS.excludeCommitAuthors),
  })
  .strict()
  .refine((a) => a.requiredApprovals <= a.approvers.length, {
    path: ['requiredApprovals'],
    message: 'cannot exceed the number of approvers; such runs could only expire',
  })
  .superRefine((a, ctx) => {
    for (const [group, members] of Object.entries(a.groups)) {
      for (const [i, m] of members.entries()) {
        if (!a.approvers.includes(m))
          ctx.addIssue({ code: 'custom', path: ['groups', group, i], message: `"${m}" is not in approvers` });
      }
    }
    for (const [group, needed] of Object.entries(a.requiredFromGroups)) {
      const members = ownEntry(a.groups, group);
      if (!members) {
        ctx.addIssue({
          code: 'custom',
          path: ['requiredFromGroups', group],
          message: `no group "${group}" in groups`,
        });
        continue;
      }
      // As for the total: a member who requests the run cannot approve it without self-approval.
      if (needed > members.length - (a.allowSelfApproval ? 0 : 1)) {
        ctx.addIssue({
          code: 'custom',
          path: ['requiredFromGroups', group],
          message: `${needed} approval(s) from ${members.length} member(s) can never be met when a member requests the run${a.allowSelfApproval ? '' : ' (allowSelfApproval is false)'}`,
        });
      }
    }
  })
  // An approver may also request a run; then, without self-approval, only the others can approve it.
  .refine((a) => a.allowSelfApproval || a.requiredApprovals <= a.approvers.length - 1, {
    path: ['requiredApprovals'],
    message:
      'can never be met when one of the approvers requests the run (allowSelfApproval is false, so they cannot approve it): add an approver or lower requiredApprovals',
  });

/** An SSH public key line, kept in its canonical form ("ssh-ed25519 <base64>", comment dropped). */
export const sshPublicKeySchema = z.string().transform((line, ctx) => {
  const parsed = parseSshPublicKey(line);
  if (parsed.ok) return parsed.key.canonical;
  ctx.addIssue({ code: 'custom', message: parsed.why });
  return z.NEVER;
});

const personSchema = z
  .object({
    // Keys that sign this person's statements in `signed` environments (`ssh-keygen -t ed25519`).
    keys: z.array(sshPublicKeySchema).default([]),
    // Commit author emails that are this person (approval.excludeCommitAuthors).
    emails: z
      .array(
        z
          .string()
          .email('must be an email address')
          .transform((e) => e.toLowerCase()),
      )
      .default([]),
  })
  .strict();

// People by handle. Handles are normalized like every name; two spellings of one handle are refused.
const peopleSchema = z
  .record(z.string(), personSchema)
  .superRefine((people, ctx) => {
    const seen = new Map<string, string>();
    for (const name of Object.keys(people)) {
      const parsed = personNameSchema.safeParse(name);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', path: [name], message: parsed.error.issues[0]!.message });
        continue;
      }
      const first = seen.get(parsed.data);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `is the same person as "${first}" after normalization`,
        });
      seen.set(parsed.data, name);
    }
  })
  .transform((people) =>
    Object.fromEntries(Object.entries(people).map(([name, p]) => [personNameSchema.parse(name), p])),
  );

const environmentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'environment names must be lower-case');

const gitBranchSchema = z
  .string()
  .regex(/^[A-Za-z0-9._\/-]{1,200}$/, 'must be a branch name (letters, digits, ".", "_", "/", "-")')
  .refine((b) => !b.startsWith('-') && !b.includes('..'), 'must not start with "-" or contain ".."');

const deployWindowSchema = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .default([...WEEKDAYS]),
    from: z.string().regex(TIME_OF_DAY, 'must be a time of day such as 08:00'),
    to: z.string().regex(TIME_OF_DAY, 'must be a time of day such as 16:00 (24:00 for midnight)'),
    timezone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Oslo or UTC'),
  })
  .strict()
  .refine((w) => w.from < w.to, { path: ['to'], message: 'must be later than from (same day)' });

const environmentSchema = z
  .object({
    cdfProject: z.string().min(1),
    baseUrl: z.url(),
    cluster: z.string().default(DEFAULT_CDF_CLUSTER),
    configFile: z.string().optional(),
    credentials: credentialsSchema,
    approval: approvalSchema,
    // One change at a time: a run that finds the environment held waits in its queue, is refused, or supersedes
    // a holder still awaiting approval (never one that is applying).
    whenBusy: z.enum(WHEN_BUSY).default('queue'),
    smoke: smokeSchema.prefault({}),
    alerts: z.array(alertChannelSchema).default([]),
    // Promotion paths: where this environment takes its changes from (dev -> prod) and what may skip that path.
    promotion: z
      .object({
        // The upstream environment: runs may ask for `from: <it>` (its last known good commit), and the lineage
        // gate checks that a commit passed its smoke tests there.
        from: environmentNameSchema.optional(),
        // Whether a run may name a git ref instead of `from`.
        allowRef: z.boolean().default(true),
        // With `from`: a commit reaches this environment only if it passed smoke tests upstream (or by override).
        lineage: z.enum(['required', 'off']).default('required'),
      })
      .strict()
      .prefault({}),
    rollback: z
      .object({
        // Off by default: deleting is the one step a rollback cannot take back by re-deploying.
        removeLeftovers: z.boolean().default(false),
        // A rollback's commit must be one this service deployed here before; or also any commit on this branch.
        allowBranch: gitBranchSchema.optional(),
        // After a promotion's smoke tests fail: alert only, or also start a rollback to the last known good
        // (which goes to the front of the queue), with the environment's approval rules or without approval.
        automatic: z.enum(['off', 'with_approval', 'without_approval']).default('off'),
        // Rollbacks may apply during a freeze and outside the deployment windows (allow), or wait like the rest.
        duringFreeze: z.enum(['allow', 'wait']).default('allow'),
      })
      .strict()
      .prefault({}),
    // When approved runs may apply; outside every window they wait (visible in status). None: any time.
    deployWindows: z.array(deployWindowSchema).default([]),
  })
  .strict();

// A Toolkit version as pip and cdf.toml write it (0.9.28, 1.0.0rc1). Nothing else reaches pip.
export const TOOLKIT_VERSION_PATTERN = /^[0-9]+(\.[0-9]+){1,3}((a|b|rc|\.dev|\.post)[0-9]+)?$/;
const toolkitVersion = z.string().regex(TOOLKIT_VERSION_PATTERN, 'must be a Toolkit version such as 0.9.28');
const versionPattern = z
  .string()
  .regex(/^[0-9A-Za-z.*+-]+$/, 'must be a version or a pattern with "*", such as 0.9.*');

const toolkitVersionsSchema = z
  .object({
    // Prebuilt: version -> path of its cdf executable. Checked before the on-demand cache.
    installed: z.record(toolkitVersion, z.string().min(1)).default({}),
    install: z
      .object({
        enabled: z.boolean().default(TOOLKIT_INSTALL_DEFAULTS.enabled),
        allow: z.array(versionPattern).default(TOOLKIT_INSTALL_DEFAULTS.allow),
        cacheDir: z.string().min(1).optional(),
        maxVersions: z.number().int().min(1).default(TOOLKIT_INSTALL_DEFAULTS.maxVersions),
        python: z.string().min(1).default(TOOLKIT_INSTALL_DEFAULTS.python),
        packages: z
          .record(
            versionPattern,
            z.array(z.string().regex(/^[A-Za-z0-9_.\-\[\],=<>!~]+$/, 'must be a pip requirement')),
          )
          .default(TOOLKIT_INSTALL_DEFAULTS.packages),
        timeout: duration.default(TOOLKIT_INSTALL_DEFAULTS.timeoutMs),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const profileSchema = z
  .object({
    build: argvTemplate.optional(),
    diff: argvTemplate,
    apply: argvTemplate,
    clean: argvTemplate.optional(),
  })
  .strict();

// Keys that would carry S3 credentials. They are refused with a message saying where credentials come from,
// rather than the generic "Unrecognized key", so nobody is tempted to find the spelling that gets through.
const CREDENTIAL_KEY = /key|secret|token|password|credential|profile/i;

const artifactsSchema = z
  .strictObject(
    {
      store: z.enum(['filesystem', 's3']).default(ARTIFACT_DEFAULTS.store),
      // filesystem: a folder of its own, e.g. one that several workers share; default <dataDir>/artifacts.
      dir: z.string().min(1).optional(),
      // s3: the server to talk to (absent: AWS S3 for the region), the bucket and a key prefix inside it.
      endpoint: z
        .url()
        .refine((u) => !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(u), {
          message:
            'must not carry credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment instead',
        })
        .optional(),
      bucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 of a-z, 0-9, ".", "-")')
        .optional(),
      prefix: z
        .string()
        .regex(
          /^$|^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9!_.*'()\/-]+$/,
          'must be a key prefix such as "cdf-promotion/" (letters, digits, "/", ".", "_", "-"; no "." or ".." segments)',
        )
        .optional(),
      region: z.string().min(1).default(ARTIFACT_DEFAULTS.region),
      // Path-style URLs (endpoint/bucket/key) instead of bucket.endpoint/key: most S3-compatible servers need it.
      forcePathStyle: z.boolean().default(ARTIFACT_DEFAULTS.forcePathStyle),
    },
    {
      error: (issue) => {
        if (issue.code !== 'unrecognized_keys') return undefined;
        const keys = (issue as { keys: string[] }).keys.filter((k) => CREDENTIAL_KEY.test(k));
        if (keys.length === 0) return undefined;
        return `${keys.map((k) => `"${k}"`).join(', ')}: S3 credentials are never read from the configuration file; give the worker AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE, in its environment`;
      },
    },
  )
  .superRefine((a, ctx) => {
    if (a.store === 's3') {
      if (!a.bucket) ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'required when store is s3' });
      if (a.dir)
        ctx.addIssue({ code: 'custom', path: ['dir'], message: 'only for store: filesystem (store is s3)' });
      return;
    }
    for (const key of ['bucket', 'endpoint'] as const) {
      if (a[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'only for store: s3 (store is filesystem); set artifacts.store: s3 to use an S3 bucket',
        });
    }
  });

const metricsSchema = z
  .object({
    enabled: z.boolean().default(METRICS_DEFAULTS.enabled),
    // The SDK's exporter binds a socket address: an IP literal, never a name it would have to resolve.
    host: z
      .string()
      .refine((h) => isIP(h) !== 0, 'must be an IP address such as 0.0.0.0, 127.0.0.1 or ::, not a host name')
      .default(METRICS_DEFAULTS.host),
    port: z.number().int().min(1).max(65535).default(METRICS_DEFAULTS.port),
  })
  .strict();

export const configSchema = z
  .object({
    temporal: z
      .object({
        address: z.string().default(TEMPORAL_DEFAULTS.address),
        namespace: z.string().default(TEMPORAL_DEFAULTS.namespace),
        taskQueue: z.string().default(TEMPORAL_DEFAULTS.taskQueue),
        uiUrl: z.string().default(TEMPORAL_DEFAULTS.uiUrl),
      })
      .strict()
      .prefault({}),
    repository: z
      .object({
        url: z.string().min(1),
        projectDir: z.string().default('.'),
        organizationDir: z.string().default('.'),
      })
      .strict(),
    dataDir: z.string().default(DEFAULT_DATA_DIR),
    // Plan texts and build reports: a folder (default) or an S3 bucket every worker and the CLI share.
    artifacts: artifactsSchema.prefault({}),
    people: peopleSchema.default({}),
    // Git's allowed_signers format ("principal[,principal] [namespaces=\"…\"] ssh-ed25519 AAAA…"); its keys are
    // added to people.<principal>.keys. Read once at start-up.
    allowedSignersFile: z.string().min(1).optional(),
    toolkit: z
      .object({
        profile: z.enum(['cdf', 'playbook', 'custom']).default(TOOLKIT_DEFAULTS.profile),
        executable: z.string().default(TOOLKIT_DEFAULTS.executable),
        versions: toolkitVersionsSchema,
        custom: profileSchema.optional(),
        timeouts: z
          .object({
            build: duration.default(TOOLKIT_DEFAULTS.timeoutsMs.build),
            diff: duration.default(TOOLKIT_DEFAULTS.timeoutsMs.diff),
            apply: duration.default(TOOLKIT_DEFAULTS.timeoutsMs.apply),
          })
          .strict()
          .prefault({}),
        env: z.record(envVarName, z.string()).default({}),
        // The Toolkit has no telemetry opt-out; PYTEST_CURRENT_TEST is the one switch that stops its Mixpanel
        // calls (which also stall ~2-3 min per command on hosts without internet access).
        disableTelemetry: z.boolean().default(true),
        // Run the pinned `cdf` through a long-lived helper that pays Python's start-up once (warm-python.ts).
        warmRunner: z.boolean().default(true),
      })
      .strict()
      .superRefine((tk, ctx) => {
        if (tk.profile === 'custom' && !tk.custom) {
          ctx.addIssue({ code: 'custom', path: ['custom'], message: 'required when profile is "custom"' });
        }
      })
      // prefault, not default: the empty object is parsed, so every toolkit default applies.
      .prefault({}),
    // Prometheus metrics on http://<host>:<port>/metrics (docs/operations.md); off unless enabled.
    metrics: metricsSchema.prefault({}),
    worker: z
      .object({
        // A bounded cache: runs parked at approval for days need not stay in memory.
        maxCachedWorkflows: z.number().int().min(1).max(100_000).default(WORKER_DEFAULTS.maxCachedWorkflows),
        spawnHelper: z.boolean().default(WORKER_DEFAULTS.spawnHelper),
        // More threads than cores only add memory: the cap keeps a typo from starting dozens of isolates.
        workflowThreads: z.number().int().min(1).max(16).default(WORKER_DEFAULTS.workflowThreads),
      })
      .strict()
      .prefault({}),
    environments: z
      .record(environmentNameSchema, environmentSchema)
      .refine((envs) => Object.keys(envs).length > 0, 'configure at least one environment')
      .superRefine(checkPromotionPaths),
  })
  .strict();

/** Each `promotion.from` names another configured environment, and following them never comes back around. */
function checkPromotionPaths(
  envs: Record<string, { promotion: { from?: string | undefined } }>,
  ctx: z.RefinementCtx,
): void {
  for (const [name, env] of Object.entries(envs)) {
    const from = env.promotion.from;
    if (from === undefined) continue;
    if (!ownEntry(envs, from)) {
      ctx.addIssue({
        code: 'custom',
        path: [name, 'promotion', 'from'],
        message: `no environment "${from}" (configured: ${Object.keys(envs).join(', ')})`,
      });
      continue;
    }
    const seen = new Set([name]);
    for (let at: string | undefined = from; at !== undefined; at = ownEntry(envs, at)?.promotion.from) {
      if (seen.has(at)) {
        ctx.addIssue({
          code: 'custom',
          path: [name, 'promotion', 'from'],
          message: `promotion paths go round in a circle: ${[...seen, at].join(' -> ')}`,
        });
        break;
      }
      seen.add(at);
    }
  }
}

export type RawConfig = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;
export type EnvironmentConfig = ParsedConfig['environments'][string];
export type AlertChannelConfig = EnvironmentConfig['alerts'][number];
export type CredentialsConfig = EnvironmentConfig['credentials'];
export type SmokeConfig = EnvironmentConfig['smoke'];

/** `artifacts` after loading: `dir` is the absolute folder of a filesystem store. */
export type ArtifactsConfig = ParsedConfig['artifacts'] & { dir: string };

export interface WorkerConfig extends Omit<ParsedConfig, 'toolkit' | 'artifacts'> {
  /** Absolute path of the file it was read from (for messages). */
  source: string;
  dataDir: string;
  artifacts: ArtifactsConfig;
  toolkit: Omit<ParsedConfig['toolkit'], 'custom' | 'versions'> & {
    commands: CommandProfile;
    versions: ToolkitVersionsConfig;
  };
}

export interface ToolkitVersionsConfig {
  /** Version -> absolute path of its cdf executable. */
  installed: Record<string, string>;
  install: Omit<ParsedConfig['toolkit']['versions']['install'], 'cacheDir'> & { cacheDir: string };
}
