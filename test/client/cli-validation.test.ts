/**
 * Flag validation and help, through the real CLI process. The address points where nothing listens: any test
 * here that tried to connect would fail with exit 1 instead of the expected 2, so these also prove validation
 * happens before connecting.
 */
import { buildProgram } from '../../client/cli';
import { describeRun, runCli } from './run-cli';

const NOWHERE = '127.0.0.1:1';
const cli = (...args: string[]) => runCli(['--address', NOWHERE, ...args]);
const HASH = 'a'.repeat(64);

async function expectUsageError(args: string[], flag: string | RegExp): Promise<void> {
  const run = await cli(...args);
  expect({ code: run.code, run: describeRun(run) }).toEqual({ code: 2, run: expect.any(String) });
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(flag);
  expect(run.stdout).toBe('');
}

describe('cli validation (exit 2, nothing started)', () => {
  test('start without --env', () =>
    expectUsageError(['start', '--ref', 'v1', '--requested-by', 'alice'], /--env/));

  test('start with a ref that starts with "-"', async () => {
    await expectUsageError(
      ['start', '--env', 'prod', '--ref', '-evil', '--requested-by', 'alice'],
      /--ref: must not start with "-"/,
    );
    await expectUsageError(
      ['start', '--env', 'prod', '--ref=--upload-pack=evil', '--requested-by', 'alice'],
      /--ref: must not start with "-"/,
    );
  });

  test('start with other bad values names each flag', async () => {
    await expectUsageError(
      ['start', '--env', 'Prod!', '--ref', 'v1', '--requested-by', 'alice'],
      /invalid --env/,
    );
    await expectUsageError(
      ['start', '--env', 'prod', '--ref', 'a..b', '--requested-by', 'alice'],
      /invalid --ref/,
    );
    await expectUsageError(
      ['start', '--env', 'prod', '--ref', 'v1', '--requested-by', ' '],
      /invalid --requested-by/,
    );
    await expectUsageError(
      ['start', '--env', 'prod', '--ref', 'v1', '--requested-by', 'alice', '--workflow-id', 'has space'],
      /--workflow-id/,
    );
  });

  test('rollback with a bad sha', async () => {
    await expectUsageError(
      ['rollback', '--env', 'prod', '--commit', 'not-a-sha', '--requested-by', 'alice'],
      /invalid --commit/,
    );
    await expectUsageError(
      ['rollback', '--env', 'prod', '--commit', 'abc12', '--requested-by', 'alice'],
      /invalid --commit/,
    );
  });

  test('approve with a bad --plan-hash, reject without --approver', async () => {
    await expectUsageError(
      ['approve', 'wf-1', '--approver', 'bob', '--plan-hash', 'abc123'],
      /invalid --plan-hash/,
    );
    await expectUsageError(
      ['approve', 'wf-1', '--approver', 'bob', '--plan-hash', HASH.toUpperCase()],
      /--plan-hash/,
    );
    await expectUsageError(['reject', 'wf-1'], /--approver/);
  });

  test('commander usage errors: unknown option, unknown command, bad --limit, missing argument', async () => {
    await expectUsageError(
      ['start', '--env', 'prod', '--ref', 'v1', '--requested-by', 'alice', '--bogus'],
      /--bogus/,
    );
    await expectUsageError(['promote-everything'], /unknown command/);
    await expectUsageError(['list', '--limit', 'lots'], /--limit/);
    await expectUsageError(['list', '--env', 'PROD'], /invalid --env/);
    await expectUsageError(['status'], /workflowId/);
  });

  test('bad global options', async () => {
    await expectUsageError(['--ui-url', 'not a url', 'list'], /--ui-url/);
    const run = await runCli(['list'], { TEMPORAL_ADDRESS: 'no-port' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--address/);
  });

  test('a valid start against an address where nothing listens fails with exit 1 and a clear message', async () => {
    const run = await cli('start', '--env', 'prod', '--ref', 'v1', '--requested-by', 'alice');
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^error: cannot connect to Temporal at 127\.0\.0\.1:1/);
  });
});

describe('cli help', () => {
  const expectations: Array<[string, string[]]> = [
    ['start', ['--env', '--ref', '--requested-by', '--reason', '--workflow-id', '--wait']],
    ['rollback', ['--env', '--commit', '--requested-by', '--reason', '--workflow-id', '--wait']],
    ['status', ['<workflowId>', '--watch']],
    ['approve', ['<workflowId>', '--approver', '--plan-hash', '--comment']],
    ['reject', ['<workflowId>', '--approver', '--reason']],
    ['list', ['--env', '--outcome', '--commit', '--limit']],
    ['plan', ['<workflowId>', '--config']],
    ['cancel', ['<workflowId>', '--by', '--reason']],
    ['audit', ['<workflowId>']],
    ['queue', ['--env']],
    ['history', ['--env', '--limit']],
    ['freeze', ['--env', '--until', '--reason', '--by']],
    ['unfreeze', ['--env', '--by', '--reason']],
  ];

  test('every command is in the list above', () => {
    expect(
      buildProgram()
        .commands.map((c) => c.name())
        .sort(),
    ).toEqual(expectations.map(([c]) => c).sort());
  });

  test.each(expectations)(
    '%s --help exits 0 and documents its flags with an example',
    async (command, flags) => {
      const run = await cli(command, '--help');
      expect({ code: run.code, run: describeRun(run) }).toEqual({ code: 0, run: expect.any(String) });
      expect(run.stdout).toContain(`Usage: cdf-promote ${command}`);
      for (const flag of flags) expect(run.stdout).toContain(flag);
      expect(run.stdout).toMatch(/Examples?:\n\s+\$ cdf-promote /);
      expect(run.stderr).toBe('');
    },
  );

  test('top-level --help lists the global options and every command', async () => {
    const run = await cli('--help');
    expect(run.code).toBe(0);
    for (const text of [
      '--address',
      '--namespace',
      '--task-queue',
      '--ui-url',
      '--json',
      'TEMPORAL_ADDRESS',
    ]) {
      expect(run.stdout).toContain(text);
    }
    for (const [command] of expectations) expect(run.stdout).toContain(command);
  });
});
