import type { Logger } from 'pino';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { AlertDelivery, NoticeRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger, type Sanitizer } from '../activity-context';
import { channelName, takesNotices, type AlertSender, type NoticeMessage } from '../alerts/alert-channels';
import { runUrl } from './send-alert';

/** The exact commands that decide the run, as a person would paste them. */
export function decisionCommands(
  req: NoticeRequest,
  namespace: string,
  signed = false,
): NoticeMessage['commands'] {
  const ns = namespace === 'default' ? '' : ` --namespace ${namespace}`;
  // A signed environment takes decisions only with the approver's signature: the commands say how to make one.
  const sign = signed ? ' --sign-with <your ssh key>' : '';
  return {
    approve: `cdf-promote${ns} approve ${req.workflowId} --approver <you>${sign} --plan-hash ${req.planHash}`,
    reject: `cdf-promote${ns} reject ${req.workflowId} --approver <you>${sign} --reason '<why>'`,
    temporal: signed
      ? `temporal workflow query${ns} --workflow-id ${req.workflowId} --name statement ` +
        `--input '{"action":"approve","person":"<you>","signedAt":"<now, UTC>"}', sign it with ` +
        `ssh-keygen -Y sign -n cdf-promote, then update approve with signedAt and signature (README: Signed environments)`
      : `temporal workflow update execute${ns} --workflow-id ${req.workflowId} --name approve ` +
        `--input '{"approver":"<you>","planHash":"${req.planHash}"}'`,
  };
}

export function composeNotice(
  req: NoticeRequest,
  temporal: Pick<WorkerConfig['temporal'], 'uiUrl' | 'namespace'>,
  signed = false,
): NoticeMessage {
  const what = `CDF ${req.kind} to ${req.environment}`;
  return {
    ...req,
    title: req.notice === 'reminder' ? `Approval reminder: ${what}` : `Approval needed: ${what}`,
    runUrl: runUrl(temporal, req.workflowId, req.runId),
    commands: decisionCommands(req, temporal.namespace, signed),
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
    const notice = composeNotice(req, deps.config.temporal, env.approval.identity === 'signed');
    const delivered: string[] = [];
    const failures: string[] = [];
    for (const [i, channel] of env.alerts.entries()) {
      // PagerDuty pages people: it hears of failures, not of plans waiting for approval.
      if (!takesNotices(channel)) continue;
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
