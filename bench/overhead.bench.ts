/**
 * Orchestration overhead (issue 11, item 5): promotions with the instant Toolkit through the service, one after
 * the other on one environment, against the bare command sequence, measured in turn in the same run.
 *
 * - bare: what a person does by hand, without the service: check the commit out (`git worktree add`), then the
 *   commands the service runs: build, dry-run, the dry-run before the deploy, deploy.
 * - service: start -> plan ready (awaiting approval) -> approve -> apply -> smoke check -> done. Its time is the
 *   run's wall time less the wait for the approval (from the workflow task that took the plan in to the moment
 *   the approval was sent).
 * - The approver sends the approve update as soon as the "approval needed" notice reaches its webhook (the
 *   default, `--approve-on notice`), or as soon as the status query, asked every 10 ms, shows the plan
 *   (`--approve-on query`). Queries that often are not free: one that arrives while a workflow task is running
 *   makes the server run another workflow task to answer it, which the run then waits for.
 * - approval -> apply start: from sending the approve update to the apply activity's start (history).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { approveUpdate, statusQuery } from '../contracts/messages';
import { percentile, type BenchResult, type Benchmark } from './harness';
import type { WorkflowHandle } from '@temporalio/client';
import { runTiming, type RunTiming } from './load/history-timing';
import {
  commonStackOptions,
  cpuMs,
  APPROVER,
  INSTANT_TOOLKIT,
  REQUESTER,
  TASK_QUEUE,
  startLoadStack,
  type LoadStack,
} from './load/stack';

const WARMUP = 3;

function bareSequence(stack: LoadStack, i: number): number {
  const dir = path.join(stack.dir, 'bare', String(i));
  const build = path.join(dir, 'build');
  mkdirSync(path.dirname(dir), { recursive: true });
  const t0 = process.hrtime.bigint();
  execFileSync('git', ['worktree', 'add', '-q', '--force', '--detach', dir, stack.commit], {
    cwd: stack.repo,
  });
  for (const step of ['build', 'diff', 'diff', 'apply'])
    execFileSync(INSTANT_TOOLKIT, [step, build], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  rmSync(dir, { recursive: true, force: true });
  execFileSync('git', ['worktree', 'prune'], { cwd: stack.repo });
  return ms;
}

interface Promotion {
  timing: RunTiming;
  /** Client clock: when the approve update was sent. */
  approveSentAt: number;
}

/** An approver's webhook: the plan hash of each "approval needed" notice, by workflow id. */
class NoticeInbox {
  private readonly plans = new Map<string, string>();
  private readonly waiting = new Map<string, (planHash: string) => void>();
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      res.writeHead(204).end();
      try {
        const n = JSON.parse(body) as { event?: string; workflowId?: string; planHash?: string };
        if (n.event === 'cdf-promotion.needs-approval' && n.workflowId && n.planHash)
          this.received(n.workflowId, n.planHash);
      } catch {
        // Not a notice: nothing to approve.
      }
    });
  });
  url = '';

  static async start(): Promise<NoticeInbox> {
    const inbox = new NoticeInbox();
    await new Promise<void>((resolve) => inbox.server.listen(0, '127.0.0.1', resolve));
    inbox.url = `http://127.0.0.1:${(inbox.server.address() as AddressInfo).port}/notices`;
    return inbox;
  }

  private received(workflowId: string, planHash: string): void {
    const waiter = this.waiting.get(workflowId);
    if (waiter) waiter(planHash);
    else this.plans.set(workflowId, planHash);
  }

  planOf(workflowId: string, timeoutMs = 60_000): Promise<string> {
    const known = this.plans.get(workflowId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no approval notice for ${workflowId} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.set(workflowId, (planHash) => {
        clearTimeout(timer);
        resolve(planHash);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function planFromQuery(handle: WorkflowHandle): Promise<string> {
  let planHash: string | undefined;
  for (const deadline = Date.now() + 60_000; !planHash;) {
    try {
      const s = await handle.query(statusQuery);
      if (s.phase === 'awaiting_approval' && s.planHash) planHash = s.planHash;
      else if (s.phase === 'done')
        throw new Error(`run ended before approval: ${s.outcome} ${s.failure ?? ''}`);
    } catch (err) {
      if (/run ended/.test(String(err))) throw err;
      // The first workflow task may not have run yet.
    }
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} never reached awaiting_approval`);
    if (!planHash) await new Promise((r) => setTimeout(r, 10));
  }
  return planHash;
}

async function promote(stack: LoadStack, i: number, inbox: NoticeInbox | undefined): Promise<Promotion> {
  const environment = stack.environments[0]!;
  const handle = await stack.env.client.workflow.start('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `bench-overhead-${Date.now().toString(36)}-${i}`,
    args: [{ environment, ref: 'main', requestedBy: REQUESTER, reason: 'overhead benchmark' }],
  });
  const planHash = inbox ? await inbox.planOf(handle.workflowId) : await planFromQuery(handle);
  const approveSentAt = Date.now();
  await handle.executeUpdate(approveUpdate, { args: [{ approver: APPROVER, planHash }] });
  const result = (await handle.result()) as { outcome: string; failure?: string };
  if (result.outcome !== 'succeeded')
    throw new Error(`${handle.workflowId} ended ${result.outcome}: ${result.failure ?? ''}`);
  return { timing: await runTiming(handle), approveSentAt };
}

const median = (xs: number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** Median time between each pair of consecutive history events, in the order of the first run. */
export function stepBreakdown(runs: RunTiming[]): Array<{ step: string; p50: number; p90: number }> {
  const first = runs[0]?.steps ?? [];
  return first.map((s, i) => {
    const ms = runs
      .map((r) => r.steps[i])
      .filter((x): x is { step: string; ms: number } => x?.step === s.step)
      .map((x) => x.ms)
      .sort((a, b) => a - b);
    return { step: s.step, p50: percentile(ms, 50), p90: percentile(ms, 90) };
  });
}

export const overheadBench: Benchmark = {
  name: 'overhead',
  async run(options) {
    const n = Number(options.promotions ?? 30);
    const approveOn = options['approve-on'] ?? 'notice';
    if (approveOn !== 'notice' && approveOn !== 'query')
      throw new Error(`--approve-on takes notice or query, not ${approveOn}`);
    const inbox = approveOn === 'notice' ? await NoticeInbox.start() : undefined;
    const stack = await startLoadStack({
      ...commonStackOptions(options),
      environments: 1,
      ...(inbox ? { noticeUrl: inbox.url } : {}),
    });
    const bare: number[] = [];
    const runs: Promotion[] = [];
    let workerCpu = 0;
    let bareCpu = 0;
    try {
      for (let i = 0; i < n + WARMUP; i++) {
        const selfCpu = cpuMs('self');
        const b = bareSequence(stack, i);
        const bareCpuOfRun = cpuMs('self') - selfCpu;
        const workerCpuBefore = stack.workerCpuMs();
        const p = await promote(stack, i, inbox);
        if (i >= WARMUP) {
          bare.push(b);
          runs.push(p);
          bareCpu += bareCpuOfRun;
          workerCpu += stack.workerCpuMs() - workerCpuBefore;
        }
      }
    } finally {
      await stack.stop();
      await inbox?.close();
    }
    const service = runs.map(
      ({ timing: t, approveSentAt }) => t.closedAt - t.startedAt - (approveSentAt - t.readyAt),
    );
    const toApply = runs
      .map(({ timing: t, approveSentAt }) => t.applyStartedAt - approveSentAt)
      .sort((a, b) => a - b);
    const bareMs = median(bare);
    const serviceMs = median(service);
    if (options.breakdown) {
      console.log(`\nmedian / p90 ms between consecutive history events (${runs.length} promotions):`);
      for (const s of stepBreakdown(runs.map((r) => r.timing)))
        console.log(`  ${s.p50.toFixed(0).padStart(5)} ${s.p90.toFixed(0).padStart(5)}  ${s.step}`);
      console.log();
    }
    const label = `overhead (${runs.length} promotions, instant Toolkit, approved on ${approveOn})`;
    return [
      { bench: label, metric: 'per promotion (median)', value: serviceMs, bare: bareMs, unit: 'ms' },
      {
        bench: label,
        metric: 'overhead over bare (median)',
        value: serviceMs - bareMs,
        unit: 'ms',
        target: 100,
      },
      {
        bench: label,
        metric: 'CPU per promotion (worker, helpers, commands)',
        value: workerCpu / runs.length,
        bare: bareCpu / runs.length,
        unit: 'ms',
      },
      { bench: label, metric: 'approval -> apply start p50', value: percentile(toApply, 50), unit: 'ms' },
      {
        bench: label,
        metric: 'approval -> apply start p99',
        value: percentile(toApply, 99),
        unit: 'ms',
        target: 50,
      },
    ] satisfies BenchResult[];
  },
};
