/**
 * Steps without progress of their own are kept alive: they heartbeat while they run, so the 8 s heartbeat
 * timeout of every activity preset tells a dead worker from a slow step (docs/operations.md, "Crashes and
 * restarts"). Steps that report progress are left alone: an empty heartbeat would replace their details.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { KEEP_ALIVE_MS, keepAlive } from '../../activities/heartbeat';

test('a step that runs longer than the keep-alive interval heartbeats meanwhile, and stops when it ends', async () => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const step = keepAlive(async (ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return 'done';
  });
  expect(await env.run(step, KEEP_ALIVE_MS * 1.5)).toBe('done');
  const whileRunning = beats.length;
  expect(whileRunning).toBeGreaterThanOrEqual(1);
  await new Promise((r) => setTimeout(r, KEEP_ALIVE_MS * 1.2));
  expect(beats.length).toBe(whileRunning);
});

test('outside an activity it just runs the step', async () => {
  await expect(keepAlive(async () => 42)()).resolves.toBe(42);
});
