/**
 * The environment the launchers give the worker process (config/defaults.ts): it must reach V8 in the workflow
 * threads too, where replays leave their garbage, and must not drop Node options the operator set.
 */
import { execFileSync } from 'node:child_process';
import { WORKER_PROCESS_ENV, withWorkerProcessEnv } from '../../config/defaults';

/** Churns short-lived objects on the main thread and in a worker thread; prints each one's young generation (MB). */
const YOUNG_GENERATION_AFTER_CHURN = `
const { Worker } = require('node:worker_threads');
const v8 = require('node:v8');
const churn = () => {
  let keep = [];
  for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 20000) keep = []; }
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
};
const main = churn();
// The thread's source comes as the first argument.
const w = new Worker(process.argv[1], { eval: true });
w.on('message', (thread) => { console.log(JSON.stringify({ main, thread })); w.terminate(); });
`;
const THREAD = `
const { parentPort } = require('node:worker_threads');
const v8 = require('node:v8');
let keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 20000) keep = []; }
parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);
`;

function youngGenerations(env: NodeJS.ProcessEnv): { main: number; thread: number } {
  const out = execFileSync(process.execPath, ['-e', YOUNG_GENERATION_AFTER_CHURN, THREAD], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { main: number; thread: number };
}

test('the worker process keeps a young generation of at most 2 x 2 MB, in the workflow threads too', () => {
  const small = youngGenerations(withWorkerProcessEnv({}));
  expect(small.main).toBeLessThanOrEqual(4);
  expect(small.thread).toBeLessThanOrEqual(4);
  // Without it, the same churn grows V8's default young generation past that.
  const normal = youngGenerations({});
  expect(Math.max(normal.main, normal.thread)).toBeGreaterThan(4);
});

test("the operator's own Node options are kept, and glibc gets two malloc arenas", () => {
  const env = withWorkerProcessEnv({ NODE_OPTIONS: '--max-old-space-size=2048', HOME: '/home/node' });
  expect(env.NODE_OPTIONS).toBe(`--max-old-space-size=2048 ${WORKER_PROCESS_ENV.NODE_OPTIONS}`);
  expect(env.MALLOC_ARENA_MAX).toBe('2');
  expect(env.HOME).toBe('/home/node');
});
