/**
 * The crash harness at CI size (bench/crash-harness.ts; `npm run crash-harness -- --runs 200` is the full size):
 * promotions and rollbacks in three environments at once, a worker killed with a plain SIGKILL once per run, in
 * every phase in turn, and the dev server restarted twice on the same SQLite file. Every run reaches the outcome
 * it would have reached without crashes, none is lost, none applies without its approval, no two `cdf deploy`
 * overlap on one CDF project, and nothing the killed workers started outlives them. The kill-to-resume times are
 * printed, not asserted (they are figures for bench/README.md, not a timed test).
 */
import { formatReport, KILL_PHASES, runCrashHarness } from '../../bench/crash-harness';

test('runs reach their outcomes while workers are SIGKILLed in every phase and the server restarts twice', async () => {
  const report = await runCrashHarness({ runs: 6, lanes: 3, serverRestarts: 2 });
  const summary = formatReport(report);
  process.stdout.write(`${summary}\n`);
  const problems = report.runs.flatMap((r) => r.problems.map((p) => `${r.workflowId}: ${p}`));
  expect({ problems, summary }).toEqual({ problems: [], summary: expect.any(String) });
  expect(report.runs.map((r) => r.outcome)).toEqual(report.runs.map((r) => r.expected));
  expect(report.runs).toHaveLength(6);
  expect(report.serverRestarts).toBe(2);
  expect(report.overlaps).toEqual([]);
  expect(report.orphansSurvived).toEqual([]);
  expect(report.nondeterminism).toEqual([]);
  // Each phase saw at least one kill.
  expect(KILL_PHASES.filter((p) => !report.kills[p])).toEqual([]);
  // The killed Toolkit steps started again on a live worker (a run whose attempt never did is a failed run).
  expect(report.resumes.filter((r) => r.heartbeating).length).toBeGreaterThan(0);
}, 600_000);
