import type { EnvironmentPolicy } from '../../contracts/activity-types';
import type { WorkflowKind } from '../../contracts/types';
import { environmentPolicy } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';

/** The environment's policy from this worker's configuration; an unknown name fails typed (bad input). */
export function createResolveEnvironment(config: WorkerConfig) {
  return async function resolveEnvironment(req: {
    environment: string;
    kind: WorkflowKind;
  }): Promise<EnvironmentPolicy> {
    return environmentPolicy(config, req.environment, req.kind);
  };
}
