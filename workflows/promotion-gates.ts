/**
 * What may reach an environment, as pure functions of the request, the environment's policy and what the
 * ledgers say: where promotions may come from, which commits a rollback may target, the lineage gate and the
 * quarantine. The pipeline asks the entities for the facts and applies these answers.
 */
import type { EnvironmentPolicy } from '../contracts/activity-types';
import type { CommitFacts } from '../contracts/environment-entity';
import type { OverrideRecord } from '../contracts/types';
import type { RunRequest } from './run-status';

/**
 * Why the configuration refuses this request before anything is held, or the policy the run follows. Only a
 * promotion's own child may claim to be its automatic rollback (the parent is set by the server, not the caller);
 * such a rollback skips approval where the environment says so.
 */
export function checkRequest(
  input: RunRequest,
  env: EnvironmentPolicy,
  parent: { workflowId: string; runId: string } | undefined,
): { policy: EnvironmentPolicy } | { refused: string } {
  if (input.triggeredBy) {
    if (parent?.workflowId !== input.triggeredBy.workflowId || parent.runId !== input.triggeredBy.runId)
      return {
        refused:
          'triggeredBy is set only by the promotion that starts an automatic rollback (this run is not its child)',
      };
    return {
      policy: env.automaticRollback === 'without_approval' ? { ...env, approvalRequired: false } : env,
    };
  }
  if (input.kind !== 'promotion') return { policy: env };
  if (input.from !== undefined && env.promotesFrom !== input.from)
    return {
      refused: env.promotesFrom
        ? `${input.environment} takes promotions from ${env.promotesFrom} (promotion.from), not from ${input.from}`
        : `${input.environment} takes promotions from no other environment (promotion.from is not set): give a ref`,
    };
  if (input.from === undefined && env.allowRef === false)
    return {
      refused: `${input.environment} takes only promotions from ${env.promotesFrom ?? 'its upstream environment'} (promotion.allowRef is false): give from instead of ref`,
    };
  return { policy: env };
}

/** Why a rollback may not target this commit (never deployed here, not on the allowed branch), or undefined. */
export function rollbackTargetRefusal(
  environment: string,
  env: EnvironmentPolicy,
  here: CommitFacts,
): string | undefined {
  if (here.deployed) return undefined;
  return `${here.commit} was never deployed to ${environment} by this service${env.rollbackBranch ? ` and is not on ${env.rollbackBranch}` : ''}: roll back to a commit listed by \`cdf-promote history --env ${environment}\``;
}

/** The gates a promotion's commit does not pass, each with what it would say. */
export function closedGates(
  environment: string,
  env: EnvironmentPolicy,
  here: CommitFacts,
  upstream: CommitFacts | undefined,
): Array<{ gate: OverrideRecord['gate']; detail: string }> {
  const closed: Array<{ gate: OverrideRecord['gate']; detail: string }> = [];
  if (here.quarantined)
    closed.push({
      gate: 'quarantine',
      detail: `${here.commit} is quarantined in ${environment}: its smoke tests failed there in ${here.quarantined.workflowId} (${here.quarantined.at})`,
    });
  if (upstream && !upstream.passed)
    closed.push({
      gate: 'lineage',
      detail: `${here.commit} has not passed its smoke tests in ${env.promotesFrom}`,
    });
  return closed;
}

/** Whether the lineage gate applies: an upstream environment and `promotion.lineage: required`. */
export const lineageUpstream = (env: EnvironmentPolicy): string | undefined =>
  env.promotesFrom && env.lineageRequired ? env.promotesFrom : undefined;
