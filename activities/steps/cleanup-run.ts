import type { Logger } from 'pino';
import { auditRecordName, type ArtifactStore } from '../../artifacts/artifact-store';
import type { AuditRecordRequest, CleanupRequest } from '../../contracts/activity-types';
import { activityLogger } from '../activity-context';
import type { RunWorkspace } from '../workspace/run-workspace';

/** Frees the run's checkouts and builds once it has an outcome. */
export function createCleanupRun(deps: { workspace: RunWorkspace; logger: Logger }) {
  return async function cleanupRun(req: CleanupRequest): Promise<void> {
    await deps.workspace.clean(req.run);
    activityLogger(deps.logger).info('run folder cleaned');
  };
}

/**
 * Keeps a finished run's audit record in the shared artifact store, so what was approved and by whom outlives the
 * namespace's retention and any one worker's disk. Everything in it is already in the run's history (no secret).
 */
export function createStoreAuditRecord(deps: { artifacts: Pick<ArtifactStore, 'putNamed'>; logger: Logger }) {
  return async function storeAuditRecord(req: AuditRecordRequest): Promise<{ key: string }> {
    const stored = await deps.artifacts.putNamed(
      auditRecordName(req.run),
      `${JSON.stringify({ workflowId: req.run.workflowId, runId: req.run.runId, ...req.record }, null, 2)}\n`,
    );
    activityLogger(deps.logger).info({ uri: stored.uri }, 'audit record stored');
    // The key inside the store, not the object's path: history must not hold a worker's paths.
    return { key: stored.key };
  };
}
