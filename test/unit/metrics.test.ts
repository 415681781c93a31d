/**
 * The metrics' labels and values, without a server: what a run's end records (outcome, approval waits), how a
 * Toolkit command's end is classified, what the activities and the alert sender record, the exporter the runtime
 * installs, and the `metrics` configuration. test/integration/metrics.test.ts scrapes a real worker.
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { createActivityMetrics } from '../../activities/metrics';
import { meteredAlertSender } from '../../activities/alerts/metered-alert-sender';
import type { AlertMessage, AlertSender, NoticeMessage } from '../../activities/alerts/alert-channels';
import { toolkitResult } from '../../activities/toolkit/toolkit-runner';
import type { AlertChannelConfig } from '../../config/schema';
import {
  APPROVAL_WAIT_METRIC,
  METRICS,
  TOOLKIT_COMMAND_METRIC,
  TOOLKIT_RESULTS,
} from '../../contracts/metrics';
import type { StepTiming } from '../../contracts/types';
import { measureRun, type RunEnd } from '../../workflows/run-metrics';
import { initializeCounters, metricsBindAddress, prometheusExporter } from '../../worker/runtime';
import { buildConfig, minimalRawConfig } from './helpers';

/** A meter that keeps what it was given, with the tags `withTags` added. */
function recordingMeter(): {
  meter: MetricMeter;
  records: Array<{ name: string; value: number; tags: MetricTags }>;
} {
  const records: Array<{ name: string; value: number; tags: MetricTags }> = [];
  const meterWith = (base: MetricTags): MetricMeter => {
    const metric = (name: string) => ({
      add: (value: number, tags: MetricTags = {}) =>
        records.push({ name, value, tags: { ...base, ...tags } }),
      record: (value: number, tags: MetricTags = {}) =>
        records.push({ name, value, tags: { ...base, ...tags } }),
    });
    return {
      createCounter: (name: string) => metric(name),
      createHistogram: (name: string) => metric(name),
      withTags: (tags: MetricTags) => meterWith({ ...base, ...tags }),
    } as unknown as MetricMeter;
  };
  return { meter: meterWith({}), records };
}

const T0 = Date.parse('2026-11-29T10:00:00Z');
/** Timings of consecutive phases, each `seconds` long; the last one open unless `closeLast`. */
function timings(steps: Array<[StepTiming['step'], number]>, closeLast = false): StepTiming[] {
  let at = T0;
  return steps.map(([step, seconds], i) => {
    const t: StepTiming = { step, startedAt: new Date(at).toISOString() };
    at += seconds * 1000;
    if (i < steps.length - 1 || closeLast)
      Object.assign(t, { endedAt: new Date(at).toISOString(), durationMs: seconds * 1000 });
    return t;
  });
}

const end = (over: Partial<RunEnd>): RunEnd => ({
  kind: 'promotion',
  environment: 'prod',
  environmentKnown: true,
  outcome: 'succeeded',
  timings: [],
  nowMs: T0,
  ...over,
});

describe('a run that ends (workflows/run-metrics.ts)', () => {
  test('counts its outcome by environment and kind', () => {
    expect(measureRun(end({ kind: 'rollback', outcome: 'no_changes' })).run).toEqual({
      environment: 'prod',
      kind: 'rollback',
      outcome: 'no_changes',
    });
  });

  test('an environment the configuration never accepted is "unknown", not the name the caller sent', () => {
    const m = measureRun(end({ environment: 'x'.repeat(40), environmentKnown: false, outcome: 'refused' }));
    expect(m.run).toEqual({ environment: 'unknown', kind: 'promotion', outcome: 'refused' });
  });

  test('records each wait for approval: approved when the run went on to apply, seconds from the timings', () => {
    // Approved, the plan changed before the apply, approved again, applied and smoke-tested.
    const steps = timings([
      ['preparing', 2],
      ['diffing', 20],
      ['awaiting_approval', 600],
      ['applying', 5],
      ['diffing', 20],
      ['awaiting_approval', 90],
      ['waiting_to_apply', 3600],
      ['applying', 30],
      ['smoke_testing', 10],
    ]);
    const m = measureRun(end({ timings: steps, nowMs: T0 + 4377_000 }));
    expect(m.approvalWaits).toEqual([
      { seconds: 600, labels: { environment: 'prod', kind: 'promotion', decision: 'approved' } },
      { seconds: 90, labels: { environment: 'prod', kind: 'promotion', decision: 'approved' } },
    ]);
  });

  test.each([
    ['rejected', 'rejected'],
    ['expired', 'expired'],
    ['cancelled', 'cancelled'],
    ['failed', 'other'],
  ] as const)(
    'a wait the run ends in (%s) is still open: measured up to now, decision %s',
    (outcome, decision) => {
      const steps = timings([
        ['preparing', 1],
        ['diffing', 10],
        ['awaiting_approval', 0],
      ]);
      const m = measureRun(end({ outcome, timings: steps, nowMs: T0 + 11_000 + 7_250 }));
      expect(m.approvalWaits).toEqual([
        { seconds: 7.25, labels: { environment: 'prod', kind: 'promotion', decision } },
      ]);
    },
  );

  test('a run that never waited for approval records no wait', () => {
    const steps = timings([
      ['preparing', 1],
      ['diffing', 10],
      ['applying', 10],
    ]);
    expect(measureRun(end({ kind: 'rollback', timings: steps })).approvalWaits).toEqual([]);
  });
});

describe('how a Toolkit command ended (activities/toolkit/toolkit-runner.ts)', () => {
  test.each([
    [{ exitCode: 0, timedOut: false }, false, undefined, 'ok'],
    [{ exitCode: 1, timedOut: false }, false, 'permanent', 'failed'],
    [{ exitCode: 1, timedOut: false }, false, 'transient', 'transient'],
    [{ exitCode: null, timedOut: true }, false, 'transient', 'timeout'],
    // Killed because the activity was cancelled: whatever it exited with, it did not fail.
    [{ exitCode: null, timedOut: false }, true, 'transient', 'cancelled'],
    [{ exitCode: 0, timedOut: false }, true, undefined, 'cancelled'],
    ['not_started', false, undefined, 'not_started'],
  ] as const)('%j, cancelled %s, classified %s: %s', (ended, cancelled, failure, expected) => {
    expect(toolkitResult(ended, cancelled, failure)).toBe(expected);
    expect(TOOLKIT_RESULTS).toContain(expected);
  });
});

describe('activity metrics (activities/metrics.ts)', () => {
  test('outside an activity they go to the meter given; names and labels from contracts/metrics.ts', () => {
    const { meter, records } = recordingMeter();
    const metrics = createActivityMetrics(meter);
    metrics.toolkitCommand('apply', 'transient', 12.5);
    metrics.alertDelivery('slack', 'alert', true);
    metrics.alertDelivery('webhook', 'notice', false);
    expect(records).toEqual([
      {
        name: 'cdf_promote_toolkit_command_seconds',
        value: 12.5,
        tags: { command: 'apply', result: 'transient' },
      },
      { name: 'cdf_promote_alerts_sent_total', value: 1, tags: { channel_type: 'slack', message: 'alert' } },
      {
        name: 'cdf_promote_alerts_failed_total',
        value: 1,
        tags: { channel_type: 'webhook', message: 'notice' },
      },
    ]);
  });

  test('a meter that throws never fails the command or alert it measures', () => {
    const broken = {
      createCounter: () => {
        throw new Error('bridge down');
      },
      createHistogram: () => {
        throw new Error('bridge down');
      },
    } as unknown as MetricMeter;
    const metrics = createActivityMetrics(broken);
    expect(() => metrics.toolkitCommand('diff', 'ok', 1)).not.toThrow();
    expect(() => metrics.alertDelivery('slack', 'alert', true)).not.toThrow();
  });
});

describe('meteredAlertSender', () => {
  const webhook: AlertChannelConfig = { type: 'webhook', urlEnv: 'HOOK' };
  const slack: AlertChannelConfig = { type: 'slack', urlEnv: 'SLACK' };

  test('counts deliveries by channel type and message, and passes failures on unchanged', async () => {
    const refusal = new Error('alert to slack answered HTTP 503');
    const inner: AlertSender = {
      send: (channel) => (channel.type === 'slack' ? Promise.reject(refusal) : Promise.resolve()),
      notify: () => Promise.resolve(),
      resolve: () => Promise.resolve(),
    };
    const seen: string[] = [];
    const sender = meteredAlertSender(inner, {
      alertDelivery: (type, message, delivered) =>
        seen.push(`${type} ${message} ${delivered ? 'sent' : 'failed'}`),
    });
    await sender.send(webhook, {} as AlertMessage);
    await expect(sender.send(slack, {} as AlertMessage)).rejects.toBe(refusal);
    await sender.notify(slack, {} as NoticeMessage);
    expect(seen).toEqual(['webhook alert sent', 'slack alert failed', 'slack notice sent']);
  });
});

describe('the Prometheus exporter (worker/runtime.ts)', () => {
  test('binds host:port, an IPv6 address in brackets', () => {
    expect(metricsBindAddress({ host: '0.0.0.0', port: 9464 })).toBe('0.0.0.0:9464');
    expect(metricsBindAddress({ host: '::', port: 9464 })).toBe('[::]:9464');
  });

  test('gives every histogram of ours its buckets in seconds; SDK names and units stay the defaults', () => {
    const exporter = prometheusExporter({ enabled: true, host: '127.0.0.1', port: 9999 });
    expect(exporter).toEqual({
      prometheus: {
        bindAddress: '127.0.0.1:9999',
        histogramBucketOverrides: {
          [TOOLKIT_COMMAND_METRIC.name]: [...TOOLKIT_COMMAND_METRIC.buckets],
          [APPROVAL_WAIT_METRIC.name]: [...APPROVAL_WAIT_METRIC.buckets],
        },
      },
    });
    expect(Object.keys(exporter)).toEqual(['prometheus']); // no metricPrefix: temporal_ for the SDK's
  });
});

describe('counters start at 0 (worker/runtime.ts initializeCounters)', () => {
  test('every run outcome of every environment and kind, and every channel type of each, with the SDK labels', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.alerts = [
      { type: 'webhook', urlEnv: 'HOOK_A' },
      { type: 'webhook', urlEnv: 'HOOK_B' },
      { type: 'slack', urlEnv: 'SLACK' },
    ];
    raw.environments.dev = { ...raw.environments.prod, cdfProject: 'acme-dev', alerts: [] };
    const config = buildConfig(raw);
    const { meter, records } = recordingMeter();
    initializeCounters(meter, config);
    expect(records.every((r) => r.value === 0)).toBe(true);
    const runs = records.filter((r) => r.name === 'cdf_promote_runs_total');
    expect(runs).toHaveLength(2 * 2 * 10);
    expect(runs).toContainEqual({
      name: 'cdf_promote_runs_total',
      value: 0,
      tags: {
        namespace: 'default',
        taskQueue: 'cdf-promotions',
        workflowType: 'rollbackWorkflow',
        environment: 'dev',
        kind: 'rollback',
        outcome: 'apply_failed',
      },
    });
    expect(
      runs.filter((r) => r.tags.workflowType === 'promotionWorkflow').map((r) => r.tags.kind),
    ).not.toContain('rollback');
    const deliveries = records
      .filter((r) => r.name !== 'cdf_promote_runs_total')
      .map((r) => `${r.name} ${r.tags.activityType} ${r.tags.channel_type} ${r.tags.message}`);
    expect(deliveries.sort()).toEqual(
      [
        'cdf_promote_alerts_failed_total sendAlert slack alert',
        'cdf_promote_alerts_failed_total sendAlert webhook alert',
        'cdf_promote_alerts_failed_total sendNotice slack notice',
        'cdf_promote_alerts_failed_total sendNotice webhook notice',
        'cdf_promote_alerts_sent_total sendAlert slack alert',
        'cdf_promote_alerts_sent_total sendAlert webhook alert',
        'cdf_promote_alerts_sent_total sendNotice slack notice',
        'cdf_promote_alerts_sent_total sendNotice webhook notice',
      ].sort(),
    );
  });
});

describe('metric definitions (contracts/metrics.ts)', () => {
  test('every name has the cdf_promote_ prefix and its unit or _total; labels are Prometheus names', () => {
    for (const m of METRICS) {
      expect(m.name).toMatch(/^cdf_promote_[a-z_]+$/);
      expect(m.name).toMatch(m.type === 'counter' ? /_total$/ : /_seconds$/);
      for (const label of m.labels) expect(label).toMatch(/^[a-z][a-z_]*$/);
      if (m.buckets) expect([...m.buckets].sort((a, b) => a - b)).toEqual([...m.buckets]);
    }
    expect(new Set(METRICS.map((m) => m.name)).size).toBe(METRICS.length);
  });
});

describe('the metrics configuration', () => {
  test('off unless enabled; 0.0.0.0:9464 by default', () => {
    expect(buildConfig(minimalRawConfig()).metrics).toEqual({ enabled: false, host: '0.0.0.0', port: 9464 });
    expect(buildConfig({ ...minimalRawConfig(), metrics: { enabled: true } }).metrics).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 9464,
    });
  });

  test.each([
    [{ host: 'localhost' }, /metrics\.host: must be an IP address/],
    [{ port: 0 }, /metrics\.port/],
    [{ port: 70000 }, /metrics\.port/],
    [{ bindAddress: '0.0.0.0:9464' }, /metrics: Unrecognized key: "bindAddress"/],
  ])('refuses %j', (metrics, message) => {
    expect(() => buildConfig({ ...minimalRawConfig(), metrics })).toThrow(message);
  });
});
