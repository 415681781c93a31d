import type { Logger } from 'pino';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { SmokeRequest } from '../../contracts/activity-types';
import type { SmokeCheckResult } from '../../contracts/types';
import { activityLogger } from '../activity-context';
import { heartbeatOf } from '../heartbeat';
import type { CdfClientFactory } from '../cdf/cdf-client-factory';
import { runSmokeChecks as runChecks } from '../smoke/smoke-checks';

/**
 * The playbook's post-deploy checks, read-only, with @cognite/sdk against the environment. When every check
 * passes, the run succeeds: the environment's open incident is resolved from here (see resolve-incidents.ts).
 */
export function createRunSmokeChecks(deps: {
  config: WorkerConfig;
  cdf: CdfClientFactory;
  logger: Logger;
  resolveIncidents: (environment: string) => Promise<unknown>;
}) {
  return async function runSmokeChecks(req: SmokeRequest): Promise<SmokeCheckResult[]> {
    const log = activityLogger(deps.logger);
    const env = requireEnvironment(deps.config, req.environment);
    // Between checks too (one may wait on a slow API): the 8 s heartbeat timeout tells a dead worker from a slow check.
    const hb = heartbeatOf();
    let progress = { done: 0, total: 0 };
    hb.describe(() => progress);
    const results = await hb.keepBeating(() =>
      runChecks(deps.cdf(req.environment), env.smoke, Date.now, (done, total) => {
        progress = { done, total };
        hb.beat();
        log.info({ done, total }, 'smoke checks progress');
      }),
    );
    log.info(
      { passed: results.filter((r) => r.passed).length, failed: results.filter((r) => !r.passed).length },
      'smoke checks done',
    );
    if (results.every((r) => r.passed)) await deps.resolveIncidents(req.environment);
    return results;
  };
}
