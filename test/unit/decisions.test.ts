/**
 * Small decisions that used to hide inside the activity factory: environment lookup and policy, the run-folder
 * layout, build refusal, leftovers, alert composition, failure descriptions and output lines.
 */
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createSanitizer, instrument } from '../../activities/activity-context';
import path from 'node:path';
import type { LedgerEntry } from '../../activities/ledger/deployment-ledger';
import { leftoversOf } from '../../activities/leftovers/leftovers';
import { composeAlert } from '../../activities/steps/send-alert';
import { buildRefusal, insightSeverity, type BuildReport } from '../../activities/toolkit/build-report';
import { lastLine } from '../../activities/toolkit/output-lines';
import { dataLayout } from '../../config/data-layout';
import { environmentPolicy, requireEnvironment } from '../../config/environment-policy';
import { describeFailure, ErrorType, PromotionError } from '../../contracts/errors';
import { buildConfig, minimalRawConfig } from './helpers';

describe('environment policy', () => {
  const raw = minimalRawConfig();
  raw.environments.prod.approval = {
    approvers: ['bob', 'carol', 'dave'],
    requiredApprovals: 2,
    rollbackRequiresApproval: false,
  };
  raw.environments.prod.rollback = { removeLeftovers: true };
  const config = buildConfig(raw);

  test('a promotion always needs approval; a rollback only where the environment says so', () => {
    expect(environmentPolicy(config, 'prod', 'promotion')).toEqual(
      expect.objectContaining({
        environment: 'prod',
        cdfProject: 'acme-prod',
        approvers: ['bob', 'carol', 'dave'],
        requiredApprovals: 2,
        approvalRequired: true,
        removeLeftovers: true,
        approvalTimeoutMs: 72 * 3_600_000,
      }),
    );
    expect(environmentPolicy(config, 'prod', 'rollback').approvalRequired).toBe(false);
  });

  test('an unknown environment is a typed error listing the configured ones', () => {
    expect(() => requireEnvironment(config, 'staging')).toThrow(
      expect.objectContaining({
        type: ErrorType.UnknownEnvironment,
        message: 'unknown environment "staging"; configured environments: prod',
      }),
    );
  });

  test.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'a name of a built-in object property (%s) is unknown, not found on the prototype',
    (name) => {
      expect(() => requireEnvironment(config, name)).toThrow(
        expect.objectContaining({ type: ErrorType.UnknownEnvironment }),
      );
    },
  );
});

describe('data layout', () => {
  const layout = dataLayout('/var/lib/cdf');

  test('shared stores sit at fixed places under the data directory', () => {
    expect(layout).toEqual(
      expect.objectContaining({
        root: '/var/lib/cdf',
        mirror: '/var/lib/cdf/mirror.git',
        artifacts: '/var/lib/cdf/artifacts',
        ledger: '/var/lib/cdf/ledger',
      }),
    );
  });

  test("a run's folders are derived from its ids only, with unsafe characters replaced", () => {
    const run = layout.run({ workflowId: 'promotion-prod/main 1', runId: 'abc-123' });
    expect(run.dir).toBe('/var/lib/cdf/runs/promotion-prod_main_1/abc-123');
    expect(run.checkout).toBe(path.join(run.dir, 'checkout'));
    expect(run.build).toBe(path.join(run.dir, 'build'));
    expect(run.planHashMarker).toBe(path.join(run.dir, 'plan-hash'));
    expect(run.leftovers.build).toBe(path.join(run.dir, 'leftovers', 'build'));
    for (const p of [run.dir, run.checkout, run.leftovers.checkout])
      expect(p.startsWith('/var/lib/cdf/runs/')).toBe(true);
  });
});

const report = (over: Partial<BuildReport> = {}): BuildReport => ({
  modulesProcessed: 1,
  modulesSucceeded: 1,
  modulesFailed: 0,
  insightsSummary: {},
  criticalInsights: [],
  cdfProject: 'acme-prod',
  resources: [],
  failedModules: [],
  ...over,
});

describe('buildRefusal', () => {
  test('a clean build may be deployed', () => {
    expect(buildRefusal(report())).toBeUndefined();
  });

  test('failed modules or critical insights refuse it, quoting the insight without rich markup', () => {
    const refusal = buildRefusal(
      report({
        modulesFailed: 1,
        criticalInsights: [
          { insightType: 'FileReadError', code: 'E1', message: 'bad [bold]YAML[/bold] in pump.yaml' },
        ],
      }),
    );
    expect(refusal).toBe(
      'build failed: 1 module(s) failed, 1 critical insight(s); FileReadError E1: bad YAML in pump.yaml',
    );
  });
});

describe('leftoversOf', () => {
  test('resources the deployed commit has and the target build lacks', () => {
    const deployed: LedgerEntry = {
      at: '2026-01-01T00:00:00Z',
      environment: 'prod',
      commit: 'b'.repeat(40),
      workflowId: 'w',
      runId: 'r',
      kind: 'promotion',
      resources: [
        { kind: 'spaces', id: 'space=demo_space' },
        { kind: 'views', id: 'externalId=PumpV2,space=demo_space,version=v1' },
      ],
    };
    const target = report({
      resources: [
        {
          kind: 'spaces',
          resourceFolder: 'data_modeling',
          identifier: { space: 'demo_space' },
          sourceFile: 's.yaml',
          builtFile: 'b.yaml',
        },
      ],
    });
    expect(leftoversOf(deployed, target)).toEqual([
      { kind: 'views', id: 'externalId=PumpV2,space=demo_space,version=v1' },
    ]);
    expect(leftoversOf({ ...deployed, resources: null }, target)).toEqual([]);
  });
});

test('composeAlert links to the run in the Temporal UI, escaping ids and namespace', () => {
  const message = composeAlert(
    {
      kind: 'promotion',
      environment: 'prod',
      outcome: 'smoke_failed',
      workflowId: 'promotion-prod/main',
      runId: 'run 1',
      ref: 'main',
      requestedBy: 'alice',
      failure: 'x',
    },
    { uiUrl: 'http://ui.example:8233/', namespace: 'prod ns', taskQueue: 'cdf-promotions' },
    { cdfProject: 'acme-prod', baseUrl: 'https://westeurope-1.cognitedata.com' },
  );
  expect(message.title).toBe('CDF promotion to prod smoke failed');
  expect(message.incidentKey).toBe('cdf-promote/prod ns/cdf-promotions/prod');
  expect(message.source).toBe('westeurope-1.cognitedata.com/acme-prod');
  expect(message.runUrl).toBe(
    'http://ui.example:8233/namespaces/prod%20ns/workflows/promotion-prod%2Fmain/run%201/history',
  );
});

describe('describeFailure', () => {
  const app = ApplicationFailure.create({ type: 'ToolkitFailedError', message: 'cdf deploy exited with 1' });

  test('an activity failure is described by the error the activity threw', () => {
    const err = new ActivityFailure(
      'activity failed',
      'applyPlan',
      '5',
      RetryState.NON_RETRYABLE_FAILURE,
      undefined,
      app,
    );
    expect(describeFailure(err)).toBe('ToolkitFailedError: cdf deploy exited with 1');
  });

  test('a failed workflow, as the client sees it, is described by its cause', () => {
    const err = Object.assign(new Error('Workflow execution failed'), {
      name: 'WorkflowFailedError',
      cause: app,
    });
    expect(describeFailure(err)).toBe('ToolkitFailedError: cdf deploy exited with 1');
  });

  test('plain errors and values', () => {
    expect(describeFailure(new Error('boom'))).toBe('boom');
    expect(describeFailure('text')).toBe('text');
  });
});

describe('lastLine', () => {
  test('the last non-empty line, without rich box characters', () => {
    expect(lastLine('a\n│ done │\n\n')).toBe('done');
    expect(lastLine('')).toBe('');
  });

  test('prefers the last matching line and cuts it', () => {
    expect(lastLine('ERROR one\nok\nfine', { prefer: /error/i })).toBe('ERROR one');
    expect(lastLine('x'.repeat(50), { maxLength: 10 })).toBe('x'.repeat(10));
  });
});

describe('insightSeverity', () => {
  test.each([
    ['Error', 'error'],
    ['FileReadError', 'error'],
    ['ConsistencyError', 'error'],
    ['FailedValidation', 'error'],
    ['ModelSyntaxWarning', 'error'],
    ['SomeFutureFatalProblem', 'error'],
    ['Warning', 'warning'],
    ['ResourceWarning', 'warning'],
    ['Recommendation', 'info'],
  ] as const)('%s is %s-level', (type, severity) => {
    expect(insightSeverity(type)).toBe(severity);
  });
});

describe('failures that leave the worker', () => {
  test('carry no secret and no worker-local absolute path', async () => {
    const sanitize = createSanitizer(
      ['https://hooks.example/T0/B0/SECRET'],
      [
        ['/var/lib/cdf-promotion', '<data dir>'],
        ['/var/lib/cdf-promotion/toolkits', '<toolkit cache>'],
      ],
    );
    const failing = instrument(
      pino({ level: 'silent' }),
      'buildAndDiff',
      async () => {
        throw new PromotionError(
          ErrorType.BuildFailed,
          'build produced no readable report: /var/lib/cdf-promotion/runs/w/r/build/lineage.yaml does not exist; ' +
            'ran /var/lib/cdf-promotion/toolkits/0.9.28/bin/cdf; alert to https://hooks.example/T0/B0/SECRET failed',
          { outputTail: 'error in /var/lib/cdf-promotion/runs/w/r/checkout/org' },
        );
      },
      sanitize,
    );
    const err = (await new MockActivityEnvironment()
      .run(failing)
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err.type).toBe(ErrorType.BuildFailed);
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toBe(
      'build produced no readable report: <data dir>/runs/w/r/build/lineage.yaml does not exist; ' +
        'ran <toolkit cache>/0.9.28/bin/cdf; alert to *** failed',
    );
    expect(JSON.stringify(err.details)).not.toContain('/var/lib');
  });
});
