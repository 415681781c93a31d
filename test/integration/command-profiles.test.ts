/**
 * Toolkit command profiles end to end: a real dev server, the fake CDF over HTTP, a real git repository and
 * the real Toolkit (`cdf` from .venv). The `playbook` profile runs through examples/playbook-wrapper, a
 * `custom` profile calls `cdf` through its own argv templates, and templates are run as argv, never through a
 * shell.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveSignal } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { CliToolkitRunner } from '../../activities/toolkit/toolkit-runner';
import { parseConfig } from '../../config/load-config';
import { type RawConfig } from '../../config/schema';
import { startTemporal } from '../helpers/temporal-server';
import { startStack, type Stack } from '../helpers/stack';
import { uniqueId, waitForPhase } from '../helpers/workflows';

const ROOT = path.resolve(__dirname, '..', '..');
const WRAPPER = path.join(ROOT, 'examples', 'playbook-wrapper', 'cognite-toolkit');

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTemporal();
});

afterAll(async () => {
  await env?.teardown();
});

/** A stack on its own task queue with the given toolkit settings. */
function stackWith(taskQueue: string, toolkit: RawConfig['toolkit']): Promise<Stack> {
  return startStack({
    rawConfig: (raw) => ({
      ...raw,
      temporal: { ...raw.temporal, taskQueue },
      toolkit: { ...raw.toolkit, ...toolkit },
    }),
  });
}

function viewOf(state: Awaited<ReturnType<Stack['admin']['state']>>): Record<string, unknown> | undefined {
  return Object.values((state as { views: Record<string, Record<string, unknown>> }).views).find(
    (v) => v.externalId === 'Pump',
  );
}

/** diff → awaiting_approval → approve → succeeded, with the plan and the fake CDF checked on the way. */
async function promoteAndApprove(stack: Stack, taskQueue: string): Promise<PromotionResult> {
  const worker = await stack.startWorker(env.nativeConnection);
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('promotionWorkflow', {
      taskQueue,
      workflowId: uniqueId('promotion-prod-profile'),
      args: [{ environment: 'prod', ref: 'v2', requestedBy: 'alice', reason: 'command profile test' }],
    });
    const waiting = await waitForPhase(handle, 'awaiting_approval', 50_000);
    expect(waiting.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(waiting.planSummary?.empty).toBe(false);
    expect(waiting.planSummary?.totals.create).toBeGreaterThanOrEqual(7);
    expect(viewOf(await stack.admin.state('demo-prod'))).toBeUndefined();
    await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
    return (await handle.result()) as PromotionResult;
  });
}

describe('playbook profile through examples/playbook-wrapper', () => {
  const taskQueue = 'cdf-promotions-profile-playbook';
  let stack: Stack;

  beforeAll(async () => {
    stack = await stackWith(taskQueue, {
      profile: 'playbook',
      executable: WRAPPER,
      // The toolkit process gets a minimal environment; the wrapper finds the pinned cdf in CDF_BIN, which
      // the worker sets to the Toolkit version the commit pins.
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('renders the playbook syntax with the wrapper as executable', () => {
    expect(stack.config.toolkit.executable).toBe(WRAPPER);
    expect(stack.config.toolkit.commands.build).toBeUndefined();
    expect(stack.config.toolkit.commands.diff).toEqual([
      '{cdf}',
      'diff',
      '--project',
      '{cdfProject}',
      '--env',
      '{env}',
      '--module-path',
      '{orgDir}',
    ]);
  });

  test('a promotion goes diff → approval → apply → succeeded, and the fake CDF holds the Pump view', async () => {
    const result = await promoteAndApprove(stack, taskQueue);
    expect(result.outcome).toBe('succeeded');
    expect(result.commit).toBe(stack.repo.second);
    expect(result.smokeResults.every((r) => r.passed)).toBe(true);
    const state = await stack.admin.state('demo-prod');
    expect(viewOf(state)?.description).toBe('A pump in a pumping station, with its rated flow in m3/h');
    expect(Object.values(state.assets).find((a) => a.externalId === 'pump_1')?.name).toBe('Pump 1');
  }, 60_000);

  test('a build the wrapper refuses ends the run as diff_failed before approval', async () => {
    // There is no separate build step with this profile: the wrapper's exit code is the build gate.
    const repo = stack.repo.dir;
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@e',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@e',
        },
      });
    git('checkout', '--quiet', '-b', 'broken-playbook', 'v1');
    writeFileSync(
      path.join(repo, 'org/modules/demo_module/data_modeling/broken.Space.yaml'),
      'space: [unclosed\n',
    );
    git('add', '-A');
    git('commit', '--quiet', '-m', 'broken yaml');
    git('checkout', '--quiet', 'main');

    const worker = await stack.startWorker(env.nativeConnection);
    const result: PromotionResult = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('promotionWorkflow', {
        taskQueue,
        workflowId: uniqueId('promotion-prod-playbook-broken'),
        args: [{ environment: 'prod', ref: 'broken-playbook', requestedBy: 'alice' }],
      });
      return handle.result();
    });
    expect(result.outcome).toBe('diff_failed');
    expect(result.failure).toMatch(/ToolkitFailedError/);
    expect(result.failure).toMatch(/build validation failed: critical insights: FileReadError=1/);
    expect(result.timings.map((t) => t.step)).not.toContain('awaiting_approval');
  }, 60_000);
});

describe('custom profile calling the real cdf', () => {
  const taskQueue = 'cdf-promotions-profile-custom';
  let stack: Stack;

  beforeAll(async () => {
    stack = await stackWith(taskQueue, {
      profile: 'custom',
      custom: {
        build: [
          '{toolkit}',
          '--no-override-env',
          'build',
          '-o',
          '{projectDir}/{orgDir}',
          '-c',
          '{configFile}',
          '-b',
          '{buildDir}',
          '--insight-format',
          'json',
        ],
        diff: [
          '{toolkit}',
          '--no-override-env',
          'deploy',
          '{buildDir}',
          '--dry-run',
          '--cdf-project',
          '{cdfProject}',
        ],
        apply: ['{toolkit}', '--no-override-env', 'deploy', '{buildDir}', '--cdf-project', '{cdfProject}'],
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('a promotion succeeds through the custom argv templates', async () => {
    expect(stack.config.toolkit.commands.diff).not.toContain('--verbose');
    const result = await promoteAndApprove(stack, taskQueue);
    expect(result.outcome).toBe('succeeded');
    expect(result.smokeResults.every((r) => r.passed)).toBe(true);
    expect(viewOf(await stack.admin.state('demo-prod'))?.description).toBe(
      'A pump in a pumping station, with its rated flow in m3/h',
    );
  }, 60_000);
});

describe('custom templates are argv, never shell strings', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-profile-argv-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const runnerFor = (custom: Record<string, string[]>, cdfProject: string) => {
    const config = parseConfig(
      {
        repository: { url: dir },
        dataDir: path.join(dir, 'data'),
        toolkit: { profile: 'custom', executable: 'printf', custom: custom as never },
        environments: {
          prod: {
            cdfProject,
            baseUrl: 'http://127.0.0.1:9',
            credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_PROD' },
            approval: { approvers: ['bob', 'carol'] },
          },
        },
      },
      path.join(dir, 'promotion.yaml'),
    );
    return new CliToolkitRunner({ config, secrets: { CDF_TOKEN_PROD: 'argv-test-token' } });
  };

  test('metacharacters in a template or in a substituted value reach the program as one argument each', async () => {
    const marker = path.join(dir, 'pwned');
    const evilProject = `demo prod; touch ${marker}; echo $(id) \`id\` | cat`;
    const runner = runnerFor(
      { diff: ['{cdf}', '[%s]\\n', '{cdfProject}', `x; touch ${marker}`, '$HOME', '{env}'], apply: ['true'] },
      evilProject,
    );
    const out = await runner.run('diff', {
      environment: 'prod',
      worktreeDir: dir,
      buildDir: path.join(dir, 'build'),
    });
    expect(out.argv).toHaveLength(6);
    expect(out.stdout.split('\n')).toEqual([
      `[${evilProject}]`,
      `[x; touch ${marker}]`,
      '[$HOME]',
      '[prod]',
      '',
    ]);
    expect(() => execFileSync('test', ['-e', marker])).toThrow();
  });

  test("['sh', '-c', ...] is just a program with arguments: the service adds no shell of its own", async () => {
    // Allowed (it is a valid argv), but the service passes '{cdfProject}' as $0, so it is never re-parsed as code.
    const runner = runnerFor(
      { diff: ['sh', '-c', 'printf "%s" "$0"', '{cdfProject}'], apply: ['true'] },
      'a; echo b',
    );
    const out = await runner.run('diff', {
      environment: 'prod',
      worktreeDir: dir,
      buildDir: path.join(dir, 'build'),
    });
    expect(out.stdout).toBe('a; echo b');
  });

  test('unknown placeholders are refused when the configuration is loaded', () => {
    expect(() => runnerFor({ diff: ['{cdf}', '{project}'], apply: ['{cdf}'] }, 'demo-prod')).toThrow(
      /toolkit\.custom\.diff\.1: unknown placeholder \{project\}/,
    );
  });
});
