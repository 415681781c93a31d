/**
 * Sending an approve/reject signal and confirming what the workflow made of it. A signal is fire-and-forget,
 * and the workflow records refused approvals instead of failing them, so the status is the only way to tell
 * the user whether their decision counted.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { DecisionRecord, PromotionStatus, RefusedApproval } from '../contracts/types';
import type { GlobalOptions } from './connection';
import { ApprovalRefusedError, CliError } from './errors';
import { print, printJson } from './output';
import { queryStatus, sleep } from './run-state';

const CONFIRM_TIMEOUT_MS = 10_000;
const CONFIRM_INTERVAL_MS = 250;

export interface DecisionRequest {
  workflowId: string;
  approver: string;
  kind: 'approve' | 'reject';
  send: (handle: WorkflowHandle) => Promise<void>;
}

export async function decide(client: Client, globals: GlobalOptions, req: DecisionRequest): Promise<void> {
  const handle = client.workflow.getHandle(req.workflowId);
  const recorded = (s: PromotionStatus): DecisionRecord[] =>
    req.kind === 'approve' ? s.approvals : s.rejections;

  // Only entries added after our signal count; earlier refusals of the same person are old news.
  let baseline: PromotionStatus | undefined;
  try {
    baseline = await queryStatus(client, handle);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw err;
  }
  await req.send(handle);

  const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
  for (;;) {
    const status = await queryStatus(client, handle).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw err;
      return undefined;
    });
    if (status) {
      const accepted = recorded(status)
        .slice(baseline ? recorded(baseline).length : 0)
        .find((d) => d.approver === req.approver);
      const refused: RefusedApproval | undefined = status.refusedApprovals
        .slice(baseline?.refusedApprovals.length ?? 0)
        .find((r) => r.approver === req.approver);
      if (accepted) return reportAccepted(globals, req, status, accepted);
      if (refused) {
        if (globals.json) {
          printJson({
            workflowId: req.workflowId,
            decision: req.kind,
            approver: req.approver,
            accepted: false,
            refused,
          });
        }
        throw new ApprovalRefusedError(`refused: ${refused.why}`);
      }
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `${req.kind} signal sent to ${req.workflowId}, but it did not show up in the run's status within ` +
          `${CONFIRM_TIMEOUT_MS / 1000} s; is a worker polling task queue ${globals.taskQueue}? ` +
          `Check with \`status ${req.workflowId}\``,
      );
    }
    await sleep(CONFIRM_INTERVAL_MS);
  }
}

function reportAccepted(
  globals: GlobalOptions,
  req: DecisionRequest,
  status: PromotionStatus,
  record: DecisionRecord,
): void {
  if (globals.json) {
    printJson({
      workflowId: req.workflowId,
      decision: req.kind,
      approver: req.approver,
      accepted: true,
      record,
      phase: status.phase,
      approvals: status.approvals.length,
      requiredApprovals: status.requiredApprovals,
    });
    return;
  }
  if (req.kind === 'approve') {
    print(
      `approved by ${req.approver} (${status.approvals.length} of ${status.requiredApprovals} required approvals)`,
    );
  } else {
    print(`rejected by ${req.approver}${record.reason ? `: ${record.reason}` : ''}`);
  }
}
