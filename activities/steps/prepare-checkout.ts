import type { Logger } from 'pino';
import type { PrepareCheckoutRequest, PreparedCheckout } from '../../contracts/activity-types';
import { activityLogger } from '../activity-context';
import type { RunWorkspace } from '../workspace/run-workspace';

/** Pins the ref to a full commit sha and checks it out into the run's folder. */
export function createPrepareCheckout(deps: { workspace: RunWorkspace; logger: Logger }) {
  return async function prepareCheckout(req: PrepareCheckoutRequest): Promise<PreparedCheckout> {
    const log = activityLogger(deps.logger);
    const commit = await deps.workspace.resolve(req.ref);
    const worktreeDir = deps.workspace.folders(req.run).checkout;
    const removed = await deps.workspace.checkout(commit, worktreeDir);
    if (removed.length)
      log.warn({ removed }, 'removed .env files from the checkout: they would override credentials');
    log.info({ ref: req.ref, commit, worktreeDir }, 'checked out pinned commit');
    if (req.onBranch === undefined) return { commit };
    return { commit, onBranch: await deps.workspace.isOnBranch(commit, req.onBranch) };
  };
}
