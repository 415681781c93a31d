/**
 * Mocked activities for workflow tests: the names and types of the real ones (from contracts/), canned
 * realistic results, every call recorded. Override any activity to make it fail or block.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DiffResult, EnvironmentPolicy, PromotionActivities } from '../../contracts/activity-types';
import { ErrorType } from '../../contracts/errors';
import type { PlanSummary, SmokeCheckResult } from '../../contracts/types';

export type { PromotionActivities };

export type ActivityName = keyof PromotionActivities;

/** The request each call received, per activity, in call order (recorded when the call starts). */
export type ActivityCalls = { [K in ActivityName]: Parameters<PromotionActivities[K]>[0][] };

export interface MockedActivities {
  activities: PromotionActivities;
  calls: ActivityCalls;
  /**
   * Names of the pipeline's activities in the order they were called (retries included; notices and the
   * environment entity's acquireEnvironment / beginApply / commitFacts / lastKnownGood / checkDeployWindow left
   * out: `calls` has those).
   */
  order: ActivityName[];
}

export const COMMIT = '3f9c2a7b1d4e5f60718293a4b5c6d7e8f9a0b1c2';
export const PLAN_HASH = 'a3f1c9e07b52d8e4f6a19c0d2b7e835f4c61a0e9d8b7c6f5e4d3c2b1a0f9e8d7';
export const OTHER_PLAN_HASH = 'b'.repeat(64);
export const EMPTY_PLAN_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function policyFor(
  environment = 'prod',
  overrides: Partial<EnvironmentPolicy> = {},
): EnvironmentPolicy {
  return {
    environment,
    cdfProject: `demo-${environment}`,
    approvalTimeoutMs: 2 * 60 * 60 * 1000,
    approvers: ['bob', 'carol', 'dave'],
    requiredApprovals: 1,
    allowSelfApproval: false,
    approvalRequired: true,
    removeLeftovers: false,
    temporalUiUrl: 'http://localhost:8233',
    namespace: 'default',
    ...overrides,
  };
}

export function planSummary(overrides: Partial<PlanSummary> = {}): PlanSummary {
  const resources = [
    {
      resource: 'views',
      create: 1,
      update: 1,
      delete: 0,
      unchanged: 2,
      skipped: 0,
      total: 4,
      ableToDeploy: true,
    },
    {
      resource: 'transformations',
      create: 0,
      update: 1,
      delete: 0,
      unchanged: 0,
      skipped: 0,
      total: 1,
      ableToDeploy: true,
    },
    {
      resource: 'assets',
      create: 2,
      update: 0,
      delete: 0,
      unchanged: 3,
      skipped: 0,
      total: 5,
      ableToDeploy: true,
    },
  ];
  return {
    resources,
    totals: { create: 3, update: 2, delete: 0, unchanged: 5, skipped: 0, total: 10, ableToDeploy: true },
    empty: false,
    ...overrides,
  };
}

/** What `cdf build` + `cdf deploy --dry-run` report when the environment already has the commit. */
export function emptyPlanSummary(): PlanSummary {
  return planSummary({
    resources: [
      {
        resource: 'views',
        create: 0,
        update: 0,
        delete: 0,
        unchanged: 4,
        skipped: 0,
        total: 4,
        ableToDeploy: true,
      },
    ],
    totals: { create: 0, update: 0, delete: 0, unchanged: 4, skipped: 0, total: 4, ableToDeploy: true },
    empty: true,
  });
}

export function diffResult(environment = 'prod', summary: PlanSummary = planSummary()): DiffResult {
  return {
    planHash: summary.empty ? EMPTY_PLAN_HASH : PLAN_HASH,
    planSummary: summary,
    planArtifact: `artifacts/plans/${environment}/${summary.empty ? EMPTY_PLAN_HASH : PLAN_HASH}.txt`,
  };
}

export const passingSmokeChecks = (): SmokeCheckResult[] => [
  { name: 'data model demo:Pumps', kind: 'dataModel', passed: true, detail: '3 views' },
  { name: 'assets under pump_station', kind: 'assets', passed: true, detail: '5 assets' },
  { name: 'transformation pump_tr', kind: 'transformation', passed: true, detail: 'last run succeeded' },
];

/** A failure the workflow must not retry, as the real activities report a failed Toolkit command. */
export function toolkitFailed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: ErrorType.ToolkitFailed, nonRetryable: true, message });
}

/**
 * Heartbeats every 100 ms until the activity is cancelled, then throws the cancellation. Activities learn of a
 * cancellation only from a heartbeat response, so the worker must not throttle heartbeats for long (see
 * startWorkflowWorker). While an activity runs the test server does not skip time, so this costs real time
 * only until the test cancels.
 */
export async function blockUntilCancelled(): Promise<never> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    await ctx.sleep(100); // rejects with the CancelledFailure once the cancellation arrived
  }
}

/** Heartbeats until `released` resolves (the test decides when), then returns. */
export async function blockUntil(released: Promise<unknown>): Promise<void> {
  const ctx = Context.current();
  let done = false;
  void released.then(() => (done = true));
  while (!done) {
    ctx.heartbeat();
    await Promise.race([released, ctx.sleep(100)]);
  }
}

/** A promise with its resolve function, for gates the test opens. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export interface MockOptions {
  /** Changes to the default policy (prod, approvers bob/carol/dave, one approval, 2 h timeout). */
  policy?: Partial<EnvironmentPolicy>;
  /** The plan buildAndDiff reports. */
  planSummary?: PlanSummary;
  /** The registered people findCommitAuthors reports as authors of the promoted commits. */
  commitAuthors?: string[];
}

const UNORDERED = new Set<ActivityName>([
  'sendNotice',
  'acquireEnvironment',
  'beginApply',
  'commitFacts',
  'lastKnownGood',
  'checkDeployWindow',
  'storeAuditRecord',
]);

export function mockActivities(
  overrides: Partial<PromotionActivities> = {},
  options: MockOptions = {},
): MockedActivities {
  const defaults: PromotionActivities = {
    async resolveEnvironment(req) {
      return policyFor(req.environment, options.policy);
    },
    async prepareCheckout(req) {
      return { commit: /^[0-9a-f]{40}$/.test(req.ref) ? req.ref : COMMIT };
    },
    async acquireEnvironment(req) {
      return { granted: true, grant: { environment: req.environment } };
    },
    async beginApply() {
      return {};
    },
    // By default every commit was deployed and passed everywhere: the gates let runs through.
    async commitFacts(req) {
      return { commit: req.commit, deployed: true, passed: true };
    },
    async lastKnownGood() {
      return null;
    },
    async checkDeployWindow() {
      return { open: true };
    },
    async findClosedRuns() {
      return [];
    },
    async importLegacyLedger() {
      return { records: [] };
    },
    async findCommitAuthors() {
      return { since: null, commits: 3, people: options.commitAuthors ?? [], unregistered: [] };
    },
    async buildAndDiff(req) {
      return diffResult(req.environment, options.planSummary);
    },
    async applyPlan() {
      return { created: 3, updated: 2, deleted: 0, unchanged: 5, attempts: Context.current().info.attempt };
    },
    async removeLeftovers(req) {
      return { ...req.leftovers, result: 'removed', detail: `deleted ${req.leftovers.resources.length}` };
    },
    async runSmokeChecks() {
      return passingSmokeChecks();
    },
    async sendAlert() {
      return { delivered: ['ops-webhook'] };
    },
    async sendNotice() {
      return { delivered: ['ops-webhook'] };
    },
    async cleanupRun() {},
    async storeAuditRecord(req) {
      return { key: `audit/${req.run.workflowId}/${req.run.runId}.json` };
    },
  };
  const impl = { ...defaults, ...overrides };
  const calls = Object.fromEntries(
    Object.keys(defaults).map((name) => [name, []]),
  ) as unknown as ActivityCalls;
  const order: ActivityName[] = [];
  const activities = Object.fromEntries(
    (Object.keys(defaults) as ActivityName[]).map((name) => [
      name,
      async (req: never) => {
        (calls[name] as unknown[]).push(req);
        // Notices are sent alongside the pipeline, not in its sequence: they are in calls.sendNotice only.
        if (!UNORDERED.has(name)) order.push(name);
        return (impl[name] as (r: never) => Promise<unknown>)(req);
      },
    ]),
  ) as unknown as PromotionActivities;
  return { activities, calls, order };
}

/** Polls (real time) until `predicate` holds, e.g. until a blocking activity has started. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
