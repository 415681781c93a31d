/**
 * The activities, composed from one small factory per step over the clients they need. The worker injects real
 * clients; tests inject fakes. Every activity goes through `instrument`, so errors become Temporal failures in
 * one place (contracts/errors.ts) and a cancellation the workflow asked for is reported as one.
 */
import type { Logger } from 'pino';
import type { ArtifactStore } from '../artifacts/artifact-store';
import { dataLayout } from '../config/data-layout';
import type { WorkerConfig } from '../config/schema';
import type { PromotionActivities } from '../contracts/activity-types';
import path from 'node:path';
import { createSanitizer, instrument } from './activity-context';
import { keepAlive } from './heartbeat';
import type { HeartbeatReceipts } from './heartbeat-receipts';
import type { AlertSender } from './alerts/alert-channels';
import { meteredAlertSender } from './alerts/metered-alert-sender';
import type { CdfClientFactory } from './cdf/cdf-client-factory';
import type { ConfigRepository } from './git/config-repository';
import type { EnvironmentEntities } from './environments/environment-entities';
import type { DeploymentLedger } from './ledger/deployment-ledger';
import { createActivityMetrics, type ActivityMetrics } from './metrics';
import { createEnvironmentEntitySteps } from './steps/environment-entity-steps';
import { createLeftoverFinder } from './leftovers/leftovers';
import { createApplyPlan } from './steps/apply-plan';
import { createBuildAndDiff } from './steps/build-and-diff';
import { createCleanupRun, createStoreAuditRecord } from './steps/cleanup-run';
import { createFindCommitAuthors } from './steps/find-commit-authors';
import { createPrepareCheckout } from './steps/prepare-checkout';
import { createRemoveLeftovers } from './steps/remove-leftovers';
import { createResolveEnvironment } from './steps/resolve-environment';
import { createResolveIncidents } from './steps/resolve-incidents';
import { createRunSmokeChecks } from './steps/run-smoke-checks';
import { createSendAlert } from './steps/send-alert';
import { createSendNotice } from './steps/send-notice';
import { createToolkitSteps } from './toolkit/toolkit-steps';
import type { ToolkitResolver } from './toolkit/toolkit-resolver';
import type { ToolkitRunner } from './toolkit/toolkit-runner';
import { RunWorkspace } from './workspace/run-workspace';

export interface ActivityDeps {
  config: WorkerConfig;
  toolkit: ToolkitRunner;
  repository: ConfigRepository;
  cdf: CdfClientFactory;
  alerts: AlertSender;
  /** Plan texts and build reports, shared by every worker and read by the CLI (artifacts/). */
  artifacts: ArtifactStore;
  /** What each environment runs: the environment entities' ledger in the worker (EntityLedger). */
  ledger: Pick<DeploymentLedger, 'append' | 'last'>;
  /** The JSONL ledger of workers from before environments were entities, imported by each entity once. */
  legacyLedger: Pick<DeploymentLedger, 'all'>;
  entities: EnvironmentEntities;
  /** Finds (or installs) the Toolkit version a checkout pins. */
  resolver: ToolkitResolver;
  logger: Logger;
  /** Values that must never leave the worker in a failure (alert channel URLs, ...). */
  secretsToMask?: string[];
  /** Where alert deliveries are counted; default: the running activity's metric meter. */
  metrics?: ActivityMetrics;
  /** The server's copy of each attempt's last heartbeat (an apply deploys once it has "deploy started"). */
  heartbeatReceipts?: HeartbeatReceipts;
}

export function createActivities(deps: ActivityDeps): PromotionActivities {
  const { config, logger, artifacts, ledger } = deps;
  // Every channel's deliveries are counted, whichever sender the worker (or a test) injected.
  const alerts = meteredAlertSender(deps.alerts, deps.metrics ?? createActivityMetrics());
  const workspace = new RunWorkspace(dataLayout(config.dataDir), deps.repository);

  const steps = createToolkitSteps({
    toolkit: deps.toolkit,
    resolver: deps.resolver,
    workspace,
    projectDir: config.repository.projectDir,
    logger,
    heartbeatReceipts: deps.heartbeatReceipts,
  });
  const findLeftovers = createLeftoverFinder({ ledger, steps, workspace, logger });
  const layout = dataLayout(config.dataDir);
  const sanitize = createSanitizer(deps.secretsToMask ?? [], [
    [config.toolkit.versions.install.cacheDir, '<toolkit cache>'],
    [layout.root, '<data dir>'],
    [config.artifacts.dir, '<artifact store>'],
    ...(path.isAbsolute(config.repository.url)
      ? [[config.repository.url, '<config repository>'] as [string, string]]
      : []),
  ]);
  // Steps that heartbeat with progress of their own (the Toolkit's output, smoke check counts) are not kept alive:
  // an empty heartbeat would replace the details a retry reads.
  const selfHeartbeating = new Set(['buildAndDiff', 'applyPlan', 'removeLeftovers', 'runSmokeChecks']);
  const wrap = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    instrument(logger, name, selfHeartbeating.has(name) ? fn : keepAlive(fn), sanitize);
  const entitySteps = createEnvironmentEntitySteps({
    config,
    entities: deps.entities,
    legacyLedger: deps.legacyLedger,
    logger,
  });
  return {
    acquireEnvironment: wrap('acquireEnvironment', entitySteps.acquireEnvironment),
    beginApply: wrap('beginApply', entitySteps.beginApply),
    findClosedRuns: wrap('findClosedRuns', entitySteps.findClosedRuns),
    importLegacyLedger: wrap('importLegacyLedger', entitySteps.importLegacyLedger),
    commitFacts: wrap('commitFacts', entitySteps.commitFacts),
    lastKnownGood: wrap('lastKnownGood', entitySteps.lastKnownGood),
    checkDeployWindow: wrap('checkDeployWindow', entitySteps.checkDeployWindow),
    resolveEnvironment: wrap('resolveEnvironment', createResolveEnvironment(config)),
    prepareCheckout: wrap('prepareCheckout', createPrepareCheckout({ workspace, logger })),
    findCommitAuthors: wrap(
      'findCommitAuthors',
      createFindCommitAuthors({ config, repository: deps.repository, ledger, logger }),
    ),
    buildAndDiff: wrap(
      'buildAndDiff',
      createBuildAndDiff({ config, steps, workspace, artifacts, findLeftovers, logger }),
    ),
    applyPlan: wrap('applyPlan', createApplyPlan({ config, steps, workspace, artifacts, ledger, logger })),
    removeLeftovers: wrap(
      'removeLeftovers',
      createRemoveLeftovers({ config, steps, workspace, ledger, logger }),
    ),
    runSmokeChecks: wrap(
      'runSmokeChecks',
      createRunSmokeChecks({
        config,
        cdf: deps.cdf,
        logger,
        resolveIncidents: createResolveIncidents({ config, alerts: alerts, logger, sanitize }),
      }),
    ),
    sendAlert: wrap('sendAlert', createSendAlert({ config, alerts: alerts, logger, sanitize })),
    sendNotice: wrap('sendNotice', createSendNotice({ config, alerts: alerts, logger, sanitize })),
    cleanupRun: wrap('cleanupRun', createCleanupRun({ workspace, logger })),
    storeAuditRecord: wrap('storeAuditRecord', createStoreAuditRecord({ artifacts, logger })),
  };
}
