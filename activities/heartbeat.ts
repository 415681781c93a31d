/**
 * One heartbeat per running activity attempt: it repeats what the attempt last reported every KEEP_ALIVE_MS, and
 * knows when a beat has left the worker.
 *
 * The worker does not send every `heartbeat()` call: after sending one it holds the next back until its throttle
 * interval has passed (min(0.8 × heartbeat timeout, the worker's maxHeartbeatThrottleInterval)), then sends the
 * latest; a call made when nothing was sent within that interval goes out at once. An apply starts `cdf deploy` only
 * once the server has its "deploy started" beat (a retry reads it to know whether the deploy had begun):
 * `delivered()` asks the server until it shows the beat, and otherwise follows the worker's throttle rule.
 */
import { Context } from '@temporalio/activity';
import { setTimeout as sleepFor } from 'node:timers/promises';

/** How often a running step heartbeats (the presets' heartbeat timeout is 8 s: four missed beats). */
export const KEEP_ALIVE_MS = 2_000;
/** The worker's maxHeartbeatThrottleInterval (worker/create-worker.ts). */
export const MAX_HEARTBEAT_THROTTLE_MS = 500;
/** Time for a beat the worker has released to be encoded and handed to the RPC. */
const SEND_MARGIN_MS = 250;
/**
 * How often, and until how long after the beat should have been sent, the server is asked whether it has it: soon
 * at first (a beat usually arrives within milliseconds, and the deploy waits for it), then every 20 ms.
 */
const RECEIPT_FIRST_POLL_MS = 2;
const RECEIPT_POLL_MS = 20;
const RECEIPT_WAIT_MS = 5_000;

type Details = () => unknown;

export class Heartbeat {
  private details: Details = () => undefined;
  private readonly throttleMs: number;
  /** Until when the worker holds beats back (the throttle window opened by the last beat it sent). */
  private windowEnd = 0;
  private lastSentAt = 0;
  /** A beat is waiting for `windowEnd`. */
  private held = false;
  private timer: NodeJS.Timeout | undefined;
  private running = 0;

  constructor(
    private readonly ctx: Context,
    maxThrottleMs = MAX_HEARTBEAT_THROTTLE_MS,
  ) {
    const timeout = ctx.info.heartbeatTimeoutMs;
    this.throttleMs = Math.min(timeout ? timeout * 0.8 : Infinity, maxThrottleMs);
  }

  /** What every later beat carries (a function, so that periodic beats report the latest progress). */
  describe(details: Details): void {
    this.details = details;
  }

  beat(): void {
    const now = Date.now();
    this.catchUp(now);
    if (now >= this.windowEnd) {
      this.lastSentAt = now;
      this.windowEnd = now + this.throttleMs;
    } else {
      this.held = true;
    }
    this.ctx.heartbeat(this.details());
  }

  /** When the worker sends (or sent) the last beat: at once, or when the throttle window it fell in ends. */
  sendsAt(): number {
    this.catchUp(Date.now());
    return this.held ? this.windowEnd : this.lastSentAt;
  }

  /**
   * Resolves once the server has the last beat: as soon as `received` (what the server holds as this attempt's
   * last heartbeat details) says so, or, without it or if the server never shows it, once the worker has surely
   * sent it (its throttle rule and a margin). Also resolves when the activity is cancelled.
   * `received` may fail (the server cannot be asked): then only the throttle rule counts.
   */
  async delivered(received?: () => Promise<boolean>): Promise<void> {
    const signal = this.ctx.cancellationSignal;
    const sentBy = this.sendsAt() + SEND_MARGIN_MS;
    const pause = (ms: number): Promise<void> => sleepFor(ms, undefined, { signal }).catch(() => undefined);
    if (received) {
      let every = RECEIPT_FIRST_POLL_MS;
      for (const giveUpAt = sentBy + RECEIPT_WAIT_MS; !signal.aborted && Date.now() < giveUpAt;) {
        // A server that cannot be asked leaves the throttle rule.
        const has = await received().catch(() => undefined);
        if (has) return;
        if (has === undefined) break;
        await pause(every);
        every = Math.min(every * 2, RECEIPT_POLL_MS);
      }
    }
    const wait = sentBy - Date.now();
    if (wait > 0) await pause(wait);
  }

  /** Beats every KEEP_ALIVE_MS while `work` runs (nested calls share one timer). */
  async keepBeating<T>(work: () => Promise<T>): Promise<T> {
    if (this.running++ === 0) this.timer = setInterval(() => this.beat(), KEEP_ALIVE_MS);
    try {
      return await work();
    } finally {
      if (--this.running === 0) clearInterval(this.timer);
    }
  }

  /** A held beat went out when its window ended, which opened the next window. */
  private catchUp(now: number): void {
    if (this.held && now >= this.windowEnd) {
      this.held = false;
      this.lastSentAt = this.windowEnd;
      this.windowEnd += this.throttleMs;
    }
  }
}

const beats = new WeakMap<Context, Heartbeat>();

/** The running attempt's heartbeat. */
export function heartbeatOf(ctx: Context = Context.current()): Heartbeat {
  let hb = beats.get(ctx);
  if (!hb) beats.set(ctx, (hb = new Heartbeat(ctx)));
  return hb;
}

/**
 * Heartbeats while `fn` runs, for activities that have no progress of their own to report: with a heartbeat
 * timeout, an attempt whose worker died moves to a live worker within seconds instead of waiting out its
 * start-to-close timeout (minutes). Outside an activity (unit tests) it just runs `fn`.
 */
export function keepAlive<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    let ctx: Context;
    try {
      ctx = Context.current();
    } catch {
      return fn(...args);
    }
    return heartbeatOf(ctx).keepBeating(() => fn(...args));
  };
}
