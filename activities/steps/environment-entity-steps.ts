import type { Logger } from 'pino';
import { windowState } from '../../config/deploy-windows';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { DeployWindowState, LegacyLedger, RunRef } from '../../contracts/activity-types';
import {
  MAX_LEDGER_RECORDS,
  type AcquireRequest,
  type AcquireResult,
  type BeginApplyResult,
  type CommitFacts,
  type LastKnownGood,
  type LedgerRecord,
} from '../../contracts/environment-entity';
import { activityLogger } from '../activity-context';
import { deploymentOf, type EnvironmentEntities } from '../environments/environment-entities';
import type { DeploymentLedger } from '../ledger/deployment-ledger';

/**
 * The activities between runs and their environment's entity: asking for the environment, confirming an apply,
 * and, for the entity, telling which runs have ended and importing a worker-local JSONL ledger once.
 */
export function createEnvironmentEntitySteps(deps: {
  config: Pick<WorkerConfig, 'environments'>;
  entities: EnvironmentEntities;
  /** The JSONL ledger this worker wrote before environments were entities. */
  legacyLedger: Pick<DeploymentLedger, 'all'>;
  logger: Logger;
}) {
  return {
    async acquireEnvironment(req: { environment: string; claim: AcquireRequest }): Promise<AcquireResult> {
      const result = await deps.entities.acquire(req.environment, req.claim);
      activityLogger(deps.logger).info(
        result.granted
          ? { environment: req.environment }
          : { environment: req.environment, position: result.position, holder: result.holder?.workflowId },
        result.granted ? 'environment granted' : 'environment held by another run: queued',
      );
      return result;
    },
    async beginApply(req: {
      environment: string;
      run: RunRef;
      throughFreeze?: boolean;
    }): Promise<BeginApplyResult> {
      const result = await deps.entities.beginApply(req.environment, {
        ...req.run,
        ...(req.throughFreeze ? { throughFreeze: true } : {}),
      });
      if (result.frozen)
        activityLogger(deps.logger).info(
          { environment: req.environment, frozenBy: result.frozen.by, until: result.frozen.until },
          'environment frozen: the apply waits',
        );
      return result;
    },
    async commitFacts(req: { environment: string; commit: string }): Promise<CommitFacts> {
      return deps.entities.commitFacts(req.environment, req.commit);
    },
    async lastKnownGood(req: { environment: string }): Promise<LastKnownGood | null> {
      return (await deps.entities.state(req.environment))?.lastKnownGood ?? null;
    },
    async checkDeployWindow(req: { environment: string }): Promise<DeployWindowState> {
      const env = requireEnvironment(deps.config, req.environment);
      return windowState(env.deployWindows, Date.now());
    },
    async findClosedRuns(req: { runs: RunRef[] }): Promise<RunRef[]> {
      return deps.entities.closedRuns(req.runs);
    },
    async importLegacyLedger(req: { environment: string }): Promise<LegacyLedger> {
      const entries = (await deps.legacyLedger.all(req.environment)).slice(-MAX_LEDGER_RECORDS);
      const last = entries[entries.length - 1];
      const records = entries
        .filter((e) => e.kind !== 'leftover-removal')
        .map((e): LedgerRecord => ({
          workflowId: e.workflowId,
          runId: e.runId,
          kind: e.kind === 'rollback' ? 'rollback' : 'promotion',
          ref: e.commit,
          commit: e.commit,
          ...(e.toolkitVersion !== undefined ? { toolkitVersion: e.toolkitVersion } : {}),
          requestedBy: '(imported)',
          approvals: [],
          outcome: 'applied',
          applied: true,
          endedAt: e.at,
        }));
      if (entries.length)
        activityLogger(deps.logger).info(
          { environment: req.environment, entries: entries.length },
          'imported the worker-local JSONL ledger into the environment entity',
        );
      return {
        ...(last ? { deployed: deploymentOf(last) } : {}),
        records,
      };
    },
  };
}
