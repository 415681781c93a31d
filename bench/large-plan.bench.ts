/**
 * The worker's memory around a whole diff (and diff + apply) of a generated 50 MB `cdf deploy --dry-run --verbose`
 * plan, against the target "after a GC, within 50 MB of where it started" (issue 11). The "Toolkit" is a custom
 * command profile that prints the plan with `cat` (and the token, which the plan must not keep), so the figures are
 * the worker's own: the real runner, Toolkit steps and activities (diff: buildAndDiff, apply: applyPlan with its
 * fresh dry-run and its comparison with the approved plan) and a filesystem artifact store.
 *
 * Each measurement runs in a child node of its own, so one does not inherit another's heap:
 * - `bare`: node spawning the same `cat` and throwing its output away: the floor of any consumer;
 * - `old`: the path before plans were streamed, rebuilt from the same modules: the output collected as strings,
 *   redacted whole, parsed whole (diff texts kept), the plan document composed and stored from one Buffer, and on
 *   apply the approved plan read whole and parsed again;
 * - `new`: the activities as the worker runs them.
 * RSS and heap+external (V8's heap plus Buffers) before (after a GC, everything loaded), at the peak, 1 s later
 * without forcing a GC (what an idle worker keeps), and after a GC with the results dropped. Peak RSS is the kernel's high-water mark (getrusage); peak heap is sampled every 10 ms
 * and after each step, so a short spike inside a synchronous step can be missed.
 *
 * `LARGE_PLAN_MB=20 npx tsx bench/run.ts large-plan` for another size.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withWorkerProcessEnv } from '../config/defaults';
import { collectGarbage, type BenchResult, type Benchmark } from './harness';
import { DIFF_PANELS, RESOURCE_TYPES, generateDryRunText } from '../test/support/large-plan';

const TOKEN = 'bench-token-5ecret-value';
const COMMIT = 'b'.repeat(40);
const MODES = ['bare', 'old: diff', 'new: diff', 'old: diff + apply', 'new: diff + apply'] as const;
type Mode = (typeof MODES)[number];

interface Probe {
  mode: Mode;
  seconds: number;
  rssBefore: number;
  rssPeak: number;
  rssIdle: number;
  rssIdleLong: number;
  rssAfter: number;
  heapBefore: number;
  heapPeak: number;
  heapAfter: number;
}

const mb = (bytes: number): number => bytes / 1024 / 1024;

export const largePlanBench: Benchmark = {
  name: 'large-plan',
  async run(): Promise<BenchResult[]> {
    const targetMb = Number(process.env.LARGE_PLAN_MB ?? 50);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-large-plan-bench-'));
    try {
      const file = path.join(dir, 'dry-run.txt');
      const perPanel = Buffer.byteLength(generateDryRunText(RESOURCE_TYPES, DIFF_PANELS)) / DIFF_PANELS;
      writeFileSync(
        file,
        generateDryRunText(RESOURCE_TYPES, Math.round((targetMb * 1024 * 1024) / perPanel)),
      );
      const sizeMb = mb(statSync(file).size);
      const results: BenchResult[] = [];
      for (const mode of MODES) {
        const p = probeInChild(mode, file, path.join(dir, mode.replace(/\W+/g, '-')));
        const bench = `large-plan ${mode} (${sizeMb.toFixed(0)} MB)`;
        const target = mode.startsWith('new') ? { target: 50 } : {};
        results.push(
          { bench, metric: 'time', value: p.seconds, unit: 's' },
          { bench, metric: 'RSS before', value: p.rssBefore, unit: 'MB' },
          { bench, metric: 'RSS peak', value: p.rssPeak, unit: 'MB' },
          {
            bench,
            metric: 'RSS 1 s after (no forced GC) - before',
            value: p.rssIdle - p.rssBefore,
            unit: 'MB',
          },
          {
            bench,
            metric: 'RSS 11 s after (no forced GC) - before',
            value: p.rssIdleLong - p.rssBefore,
            unit: 'MB',
            ...target,
          },
          { bench, metric: 'RSS after GC - before', value: p.rssAfter - p.rssBefore, unit: 'MB', ...target },
          { bench, metric: 'heap+external before', value: p.heapBefore, unit: 'MB' },
          { bench, metric: 'heap+external peak', value: p.heapPeak, unit: 'MB' },
          { bench, metric: 'heap+external after GC', value: p.heapAfter, unit: 'MB' },
        );
      }
      return results;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function probeInChild(mode: Mode, file: string, work: string): Probe {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', __filename, '--large-plan-probe', mode, file, work],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1024 * 1024,
      // The memory of a worker as its launchers start it (malloc arenas, young generation).
      env: withWorkerProcessEnv(process.env),
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Probe;
}

/** The child: loads everything, measures, runs the mode, drops the results, measures again. */
async function probe(mode: Mode, file: string, work: string): Promise<void> {
  const { runMode } = await loadModes(file, work);
  const heapNow = (): number => {
    const m = process.memoryUsage();
    return mb(m.heapUsed + m.external);
  };
  const settle = async (): Promise<void> => {
    collectGarbage();
    await new Promise((r) => setTimeout(r, 200));
    collectGarbage();
  };
  // A warm-up on a small plan: the code paths are compiled and their modules' state made before measuring.
  await runMode(mode, 'warm-up');
  await settle();
  const rssBefore = mb(process.memoryUsage().rss);
  const heapBefore = heapNow();
  let heapPeak = heapBefore;
  const sample = (): void => {
    heapPeak = Math.max(heapPeak, heapNow());
  };
  const sampler = setInterval(sample, 10);
  const started = process.hrtime.bigint();
  await runMode(mode, 'measure', sample);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  sample();
  const rssPeak = process.resourceUsage().maxRSS / 1024;
  // What a worker holds when nobody forces a GC: V8 gives memory back when it collects on its own schedule.
  await new Promise((r) => setTimeout(r, 1000));
  const rssIdle = mb(process.memoryUsage().rss);
  // V8's memory reducer shrinks the heap of an idle process after about 8 s.
  await new Promise((r) => setTimeout(r, 10_000));
  const rssIdleLong = mb(process.memoryUsage().rss);
  await settle();
  const result: Probe = {
    mode,
    seconds,
    rssBefore,
    rssPeak,
    rssIdle,
    rssIdleLong,
    rssAfter: mb(process.memoryUsage().rss),
    heapBefore,
    heapPeak,
    heapAfter: heapNow(),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Imported only in the child, so the parent's table run does not load the worker's modules. */
async function loadModes(file: string, work: string) {
  const pino = (await import('pino')).default;
  const { MockActivityEnvironment } = await import('@temporalio/testing');
  const { openArtifactStore } = await import('../artifacts/open-artifact-store');
  const { dataLayout } = await import('../config/data-layout');
  const { composePlanText, planDifferences } = await import('../activities/plan/plan-document');
  const { createBuildAndDiff } = await import('../activities/steps/build-and-diff');
  const { createApplyPlan } = await import('../activities/steps/apply-plan');
  const { DeploymentLedger } = await import('../activities/ledger/deployment-ledger');
  const { parseDryRunOutput } = await import('../activities/toolkit/dry-run-parser');
  const { stepsOverEmptyCheckouts } = await import('../test/support/fake-checkouts');
  const { runCommand } = await import('../activities/process/run-command');
  const { redact } = await import('../activities/redact');
  const { buildConfig, minimalRawConfig } = await import('../test/unit/helpers');

  const small = path.join(work, 'small-dry-run.txt');
  mkdirSync(work, { recursive: true });
  writeFileSync(small, generateDryRunText(RESOURCE_TYPES, 200));
  const script = 'printf "using token %s\\n" "$CDF_TOKEN"; cat "$0"';

  const setUp = (plan: string, label: string) => {
    const raw = minimalRawConfig();
    raw.dataDir = path.join(work, `data-${label}`);
    raw.toolkit = {
      profile: 'custom',
      executable: 'sh',
      custom: { diff: ['sh', '-c', script, plan], apply: ['true'] },
    };
    const config = buildConfig(raw, path.join(work, 'promotion.yaml'));
    const layout = dataLayout(config.dataDir);
    const logger = pino({ level: 'silent' });
    const { workspace, steps } = stepsOverEmptyCheckouts(config, COMMIT, { CDF_TOKEN_PROD: TOKEN }, logger);
    const store = openArtifactStore(config.artifacts);
    return { config, layout, workspace, steps, store, logger };
  };

  const runMode = async (mode: Mode, phase: 'warm-up' | 'measure', sample?: () => void): Promise<void> => {
    const plan = phase === 'warm-up' ? small : file;
    const s = setUp(plan, phase);
    const run = { workflowId: `promotion-prod-bench-${phase}`, runId: 'run-1' };
    const env = new MockActivityEnvironment();
    if (mode === 'bare') {
      await new Promise<void>((resolve, reject) => {
        const child = spawn('cat', [plan], { stdio: ['ignore', 'pipe', 'ignore'] });
        child.stdout.on('data', () => undefined);
        child.on('error', reject).on('close', () => resolve());
      });
      return;
    }
    if (mode.startsWith('new')) {
      const diff = createBuildAndDiff({
        config: s.config,
        steps: s.steps,
        workspace: s.workspace,
        artifacts: s.store,
        findLeftovers: async () => undefined,
        logger: s.logger,
      });
      const result = (await env.run(diff, {
        run,
        environment: 'prod',
        commit: COMMIT,
        kind: 'promotion' as const,
      })) as { planHash: string };
      sample?.();
      if (mode === 'new: diff + apply') {
        const apply = createApplyPlan({
          config: s.config,
          steps: s.steps,
          workspace: s.workspace,
          artifacts: s.store,
          ledger: new DeploymentLedger(s.layout.ledger),
          logger: s.logger,
        });
        await env.run(apply, {
          run,
          environment: 'prod',
          commit: COMMIT,
          planHash: result.planHash,
          kind: 'promotion' as const,
          toolkitVersion: '0.9.28',
        });
      }
      return;
    }
    // The old path: what buildAndDiff and applyPlan did before, step by step, with the same modules.
    const oldDryRun = async () => {
      const r = await runCommand(['sh', '-c', script, plan], {
        cwd: work,
        env: { PATH: process.env.PATH, CDF_TOKEN: TOKEN },
        timeoutMs: 600_000,
        onLine: (line) => void redact(line, [TOKEN]),
      });
      const output = redact(`${r.stdout}${r.stderr ? `\n${r.stderr}` : ''}`, [TOKEN]);
      const stdout = redact(r.stdout, [TOKEN]);
      sample?.();
      return { output, parsed: parseDryRunOutput(stdout) };
    };
    const diffed = await oldDryRun();
    sample?.();
    const stored = await s.store.putPlan(composePlanText(diffed.output, COMMIT, undefined, '0.9.28'));
    sample?.();
    if (mode === 'old: diff + apply') {
      const current = (await oldDryRun()).parsed;
      sample?.();
      const approved = parseDryRunOutput(await s.store.getPlan(stored.hash));
      sample?.();
      if (planDifferences(approved, current).length) throw new Error('the old path saw a changed plan');
    }
  };
  return { runMode };
}

if (process.argv.includes('--large-plan-probe')) {
  const [mode, file, work] = process.argv.slice(process.argv.indexOf('--large-plan-probe') + 1);
  probe(mode as Mode, file!, work!).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
