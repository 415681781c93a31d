/**
 * The apply starts `cdf deploy` only once its "deploy started" beat has left the worker, and waits no longer than
 * the worker actually holds that beat back (activities/heartbeat.ts follows the worker's throttle rule).
 */
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Heartbeat } from '../../activities/heartbeat';

const THROTTLE_MS = 400;

/** A Heartbeat in a mock activity with an 8 s heartbeat timeout, the beats it made, and a settable clock. */
async function inActivity(
  body: (hb: Heartbeat, at: (ms: number) => void, beats: unknown[]) => Promise<void>,
): Promise<void> {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 8_000 });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  let now = 1_000_000;
  const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
  try {
    await env.run(async () => {
      await body(new Heartbeat(Context.current(), THROTTLE_MS), (ms) => (now = 1_000_000 + ms), beats);
    });
  } finally {
    clock.mockRestore();
  }
}

test('a beat with no other sent within the throttle interval leaves at once', () =>
  inActivity(async (hb, at) => {
    at(0);
    hb.beat();
    expect(hb.sendsAt()).toBe(1_000_000);
    at(THROTTLE_MS + 1);
    hb.beat();
    expect(hb.sendsAt()).toBe(1_000_000 + THROTTLE_MS + 1);
  }));

test('a beat made soon after a sent one is held until the throttle interval ends, and opens the next one', () =>
  inActivity(async (hb, at) => {
    at(0);
    hb.beat();
    at(50);
    hb.beat();
    expect(hb.sendsAt()).toBe(1_000_000 + THROTTLE_MS);
    // The held beat went out at 400 ms, so a beat at 500 ms is held until 800 ms...
    at(500);
    hb.beat();
    expect(hb.sendsAt()).toBe(1_000_000 + 2 * THROTTLE_MS);
    // ...and one after a quiet interval goes out at once again.
    at(5_000);
    hb.beat();
    expect(hb.sendsAt()).toBe(1_005_000);
  }));

test('every beat carries what the step last described', () =>
  inActivity(async (hb, _at, beats) => {
    let lines = 1;
    hb.describe(() => ({ step: 'apply', lines, deployStarted: true }));
    hb.beat();
    lines = 7;
    hb.beat();
    expect(beats).toEqual([
      { step: 'apply', lines: 1, deployStarted: true },
      { step: 'apply', lines: 7, deployStarted: true },
    ]);
  }));

/** How long delivered(received) takes after a beat the worker holds back (a second beat right after a first). */
async function waitForHeldBeat(throttleMs: number, received?: () => Promise<boolean>): Promise<number> {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 8_000 });
  return env.run(async () => {
    const hb = new Heartbeat(Context.current(), throttleMs);
    hb.beat();
    hb.beat();
    const t0 = Date.now();
    await hb.delivered(received);
    return Date.now() - t0;
  });
}

test('delivered() waits out the time a beat is held back', async () => {
  expect(await waitForHeldBeat(THROTTLE_MS)).toBeGreaterThanOrEqual(THROTTLE_MS - 20);
});

test('delivered() ends as soon as the server shows the beat, without waiting out the throttle', async () => {
  let asked = 0;
  expect(await waitForHeldBeat(2_000, async () => ++asked >= 2)).toBeLessThan(1_000);
  expect(asked).toBe(2);
});

test('delivered() falls back to the throttle rule when the server cannot be asked', async () => {
  const waited = await waitForHeldBeat(THROTTLE_MS, () => Promise.reject(new Error('unavailable')));
  expect(waited).toBeGreaterThanOrEqual(THROTTLE_MS - 20);
});
