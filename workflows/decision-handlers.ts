/**
 * The run's message handlers: the `status` query, the approve / reject / cancel updates (validators refuse
 * before anything reaches history, and the caller hears why) and the approve / reject signals kept for older
 * tooling (same rules; a refusal can only be recorded, bounded). The rules themselves are in approval-rules.ts.
 */
import { ApplicationFailure, type CancellationScope, log, setHandler } from '@temporalio/workflow';
import {
  approveSignal,
  approveUpdate,
  cancelUpdate,
  DECISION_REFUSED_TYPE,
  MESSAGE_DESCRIPTIONS as D,
  rejectSignal,
  rejectUpdate,
  statementQuery,
  statusQuery,
} from '../contracts/messages';
import {
  MAX_REFUSED_KEPT,
  type ApprovePayload,
  type DecisionResult,
  type PromotionStatus,
  type RefusalReason,
  type RejectPayload,
  type SignedProof,
  formatZodError,
  statementQueryArgsSchema,
} from '../contracts/types';
import {
  decisionStatement,
  judgeApproval,
  judgeCancel,
  judgeRejection,
  missingGroupApprovals,
  type ApprovalState,
  type Verdict,
} from './approval-rules';
import { recordRefusal } from './run-status';

export interface DecisionContext {
  status: PromotionStatus;
  /** The rules' view of the run right now. */
  state(): ApprovalState;
  /** The scope the pipeline's steps run in: the cancel update cancels it. */
  steps: CancellationScope;
  /** Called after a decision was recorded (the UI's current details are rendered again). */
  onChange?: () => void;
}

export function registerDecisionHandlers({ status, state, steps, onChange }: DecisionContext): void {
  const changed = <T>(result: T): T => {
    onChange?.();
    return result;
  };
  const now = (): string => new Date(Date.now()).toISOString();
  // Refused signals are recorded (bounded): the history then shows every attempt and why it did not count.
  const refuse = (verdict: { approver: string; reason: string; code: RefusalReason }): void => {
    recordRefusal(status, { approver: verdict.approver, why: verdict.reason, reason: verdict.code }, now());
    // Logged within bounds too: a flood of refused signals must not flood the worker's log.
    const count = status.refusedCount ?? 0;
    if (count <= MAX_REFUSED_KEPT || count % 1000 === 0) {
      log.warn('approval signal refused', {
        approver: verdict.approver.slice(0, 100),
        why: verdict.reason.slice(0, 300),
        refusedSoFar: count,
      });
    }
  };
  const decided = (decision: DecisionResult['decision'], by: string, at: string): DecisionResult => ({
    decision,
    by,
    at,
    phase: status.phase,
    approvals: status.approvals.length,
    requiredApprovals: status.requiredApprovals,
  });
  const recordApproval = ({ payload: p, signed }: Accepted<ApprovePayload>): DecisionResult => {
    const at = now();
    status.approvals.push({ approver: p.approver, at, comment: p.comment, ...proof(signed) });
    const policy = state().policy;
    if (policy?.requiredFromGroups) status.approvalsMissingFrom = missingGroupApprovals(status, policy);
    log.info('approval recorded', { approver: p.approver });
    return decided('approve', p.approver, at);
  };
  const recordRejection = ({ payload: p, signed }: Accepted<RejectPayload>): DecisionResult => {
    const at = now();
    status.rejections.push({ approver: p.approver, at, reason: p.reason, ...proof(signed) });
    log.info('rejection recorded', { approver: p.approver });
    return decided('reject', p.approver, at);
  };
  const cancelState = () => ({ ...state(), outcomeSet: status.outcome !== undefined });

  setHandler(statusQuery, () => status, { description: D.status });
  setHandler(
    statementQuery,
    (args) => {
      const parsed = statementQueryArgsSchema.safeParse(args);
      if (!parsed.success) throw new Error(`invalid statement query: ${formatZodError(parsed.error)}`);
      return decisionStatement(state(), parsed.data.action, parsed.data.person, parsed.data.signedAt);
    },
    { description: D.statement },
  );
  setHandler(approveUpdate, (payload) => changed(recordApproval(accepted(judgeApproval(state(), payload)))), {
    validator: (payload) => void accepted(judgeApproval(state(), payload)),
    description: D.approve,
  });
  setHandler(
    rejectUpdate,
    (payload) => changed(recordRejection(accepted(judgeRejection(state(), payload)))),
    {
      validator: (payload) => void accepted(judgeRejection(state(), payload)),
      description: D.reject,
    },
  );
  setHandler(
    cancelUpdate,
    (payload) => {
      const { payload: p, signed } = accepted(judgeCancel(cancelState(), payload));
      const at = now();
      status.cancelledBy = { approver: p.by, at, reason: p.reason, ...proof(signed) };
      log.info('cancellation requested', { by: p.by });
      steps.cancel();
      return changed(decided('cancel', p.by, at));
    },
    { validator: (payload) => void accepted(judgeCancel(cancelState(), payload)), description: D.cancel },
  );
  setHandler(
    approveSignal,
    (raw) => {
      const verdict = judgeApproval(state(), raw);
      if (!verdict.accepted) return refuse(verdict);
      changed(recordApproval(verdict));
    },
    { description: D.approveSignal },
  );
  setHandler(
    rejectSignal,
    (raw) => {
      const verdict = judgeRejection(state(), raw);
      if (!verdict.accepted) return refuse(verdict);
      changed(recordRejection(verdict));
    },
    { description: D.rejectSignal },
  );
}

type Accepted<P> = Extract<Verdict<P>, { accepted: true }>;

const proof = (signed: SignedProof | undefined) => (signed ? { signed } : {});

/** An accepted verdict as it is; a refused one becomes the failure the update's caller receives. */
function accepted<P>(verdict: Verdict<P>): Accepted<P> {
  if (verdict.accepted) return verdict;
  throw ApplicationFailure.create({
    type: DECISION_REFUSED_TYPE,
    message: verdict.reason,
    nonRetryable: true,
  });
}
