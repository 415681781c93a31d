import type { Logger } from 'pino';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { AlertDelivery, NoticeRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger, type Sanitizer } from '../activity-context';
import { channelName, type AlertSender, type NoticeMessage } from '../alerts/alert-channels';
import { composeAlert } from './send-alert';

/** The exact commands that decide the run, as a person would paste them. */
export function decisionCommands(req: NoticeRequest, namespace: string): NoticeMessage['commands'] {
  const ns = namespace === 'default' ? '' : ` --namespace ${namespace}`;
  return {
    approve: `cdf-promote${ns} approve ${req.workflowId} --approver <you> --plan-hash ${req.planHash}`,
    reject: `cdf-promote${ns} reject ${req.workflowId} --approver <you> --reason '<why>'`,
    temporal:
      `temporal workflow update execute${ns} --workflow-id ${req.workflowId} --name approve ` +
      `--input '{"approver":"<you>","planHash":"${req.planHash}"}'`,
  };
}

export function composeNotice(
  req: NoticeRequest,
  temporal: Pick<WorkerConfig['temporal'], 'uiUrl' | 'namespace'>,
): NoticeMessage {
  const what = `CDF ${req.kind} to ${req.environment}`;
  const { runUrl } = composeAlert({ ...req, outcome: 'succeeded', failure: '' }, temporal);
  return {
    ...req,
    title: req.notice === 'reminder' ? `Approval reminder: ${what}` : `Approval needed: ${what}`,
    runUrl,
    commands: decisionCommands(req, temporal.namespace),
  };
}

/**
 * Tells the environment's channels that a plan waits for approval (and reminds them). Best effort: the run does
 * not wait for it, and a channel that cannot be reached is logged, not alerted.
 */
export function createSendNotice(deps: {
  config: WorkerConfig;
  alerts: AlertSender;
  logger: Logger;
  sanitize: Sanitizer;
}) {
  return async function sendNotice(req: NoticeRequest): Promise<AlertDelivery> {
    const log = activityLogger(deps.logger);
    const env = requireEnvironment(deps.config, req.environment);
    const notice = composeNotice(req, deps.config.temporal);
    const delivered: string[] = [];
    const failures: string[] = [];
    for (const [i, channel] of env.alerts.entries()) {
      const name = channelName(channel, i);
      try {
        await deps.alerts.notify(channel, notice);
        delivered.push(name);
      } catch (err) {
        failures.push(`${name}: ${deps.sanitize((err as Error).message)}`);
      }
    }
    log.info({ notice: req.notice, delivered, failed: failures.length }, 'approval notice sent');
    if (failures.length && delivered.length === 0) {
      throw new PromotionError(ErrorType.AlertDelivery, `notice delivery failed: ${failures.join('; ')}`);
    }
    return { delivered };
  };
}
