import type { Logger } from 'pino';
import type { CleanupRequest } from '../../contracts/activity-types';
import { activityLogger } from '../activity-context';
import type { RunWorkspace } from '../workspace/run-workspace';

/** Frees the run's checkouts and builds once it has an outcome. */
export function createCleanupRun(deps: { workspace: RunWorkspace; logger: Logger }) {
  return async function cleanupRun(req: CleanupRequest): Promise<void> {
    await deps.workspace.clean(req.run);
    activityLogger(deps.logger).info('run folder cleaned');
  };
}
