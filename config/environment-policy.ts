/**
 * Looking up an environment in the configuration, and the part of it a workflow needs to decide (no
 * credentials): who approves, how many approvals, timeouts, leftovers.
 */
import type { EnvironmentPolicy } from '../contracts/activity-types';
import { UnknownEnvironmentError } from '../contracts/errors';
import type { WorkflowKind } from '../contracts/types';
import type { EnvironmentConfig, WorkerConfig } from './schema';

export function requireEnvironment(
  config: Pick<WorkerConfig, 'environments'>,
  name: string,
): EnvironmentConfig {
  // Own keys only: a name such as "constructor" must not find Object.prototype's members.
  const env = Object.prototype.hasOwnProperty.call(config.environments, name)
    ? config.environments[name]
    : undefined;
  if (!env) throw new UnknownEnvironmentError(name, Object.keys(config.environments));
  return env;
}

export function environmentPolicy(
  config: Pick<WorkerConfig, 'environments' | 'temporal' | 'people'>,
  environment: string,
  kind: WorkflowKind,
): EnvironmentPolicy {
  const env = requireEnvironment(config, environment);
  return {
    environment,
    cdfProject: env.cdfProject,
    approvalTimeoutMs: env.approval.timeout,
    approvers: env.approval.approvers,
    requiredApprovals: env.approval.requiredApprovals,
    allowSelfApproval: env.approval.allowSelfApproval,
    approvalRequired: kind === 'promotion' || env.approval.rollbackRequiresApproval,
    removeLeftovers: env.rollback.removeLeftovers,
    ...(env.approval.remindEvery !== undefined ? { remindEveryMs: env.approval.remindEvery } : {}),
    onPlanChange: env.approval.onPlanChange,
    ...(Object.keys(env.approval.requiredFromGroups).length
      ? { groups: env.approval.groups, requiredFromGroups: env.approval.requiredFromGroups }
      : {}),
    ...(env.approval.identity === 'signed'
      ? {
          identity: 'signed' as const,
          // Everyone with a key: any registered person may request; the approver rules still apply.
          signers: Object.fromEntries(
            Object.entries(config.people)
              .filter(([, p]) => p.keys.length > 0)
              .map(([name, p]) => [name, p.keys]),
          ),
          signatureMaxAgeMs: env.approval.signatureMaxAge,
        }
      : {}),
    ...(env.approval.excludeCommitAuthors ? { excludeCommitAuthors: true } : {}),
    whenBusy: env.whenBusy,
    ...(env.promotion.from !== undefined
      ? { promotesFrom: env.promotion.from, lineageRequired: env.promotion.lineage === 'required' }
      : {}),
    allowRef: env.promotion.allowRef,
    ...(env.rollback.allowBranch !== undefined ? { rollbackBranch: env.rollback.allowBranch } : {}),
    automaticRollback: env.rollback.automatic,
    throughFreeze: kind === 'rollback' && env.rollback.duringFreeze === 'allow',
    hasDeployWindows: env.deployWindows.length > 0,
    temporalUiUrl: config.temporal.uiUrl,
    namespace: config.temporal.namespace,
  };
}
