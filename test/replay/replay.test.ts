/**
 * Replays recorded histories of real runs (test/histories, recorded with RECORD_HISTORIES=1 from the
 * integration tests) against the current workflow code. A change that would break promotions already in
 * flight fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { OUTCOMES } from '../../contracts/types';
import { BUNDLE_PATH } from '../helpers/temporal-server';

const DIR = path.resolve(__dirname, '..', 'histories');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The outcome a recorded run completed with, read from its WorkflowExecutionCompleted result payload. */
function recordedOutcome(file: string): string | undefined {
  const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as {
    events: Array<{
      workflowExecutionCompletedEventAttributes?: { result?: { payloads?: Array<{ data: string }> } };
    }>;
  };
  const completed = history.events.find((e) => e.workflowExecutionCompletedEventAttributes);
  const data = completed?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  return data
    ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { outcome?: string }).outcome
    : undefined;
}

test('there are recorded histories of every outcome to replay', () => {
  const recorded = new Set(files.map(recordedOutcome));
  expect(OUTCOMES.filter((o) => !recorded.has(o))).toEqual([]);
  expect(files).toEqual(expect.arrayContaining(['promotion-succeeded.json', 'rollback-prod.json']));
});

test.each(files)('replays %s without nondeterminism', async (file) => {
  const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
  // Replayed under the run's own workflow id, as a restarted worker would: signed statements name it.
  const workflowId: string =
    history.events[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file.replace(/\.json$/, '');
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: BUNDLE_PATH } }, history, workflowId),
  ).resolves.toBeUndefined();
});

test('a signed run replayed under another workflow id fails: its statements are checked again', async () => {
  const history = JSON.parse(readFileSync(path.join(DIR, 'promotion-signed-approved.json'), 'utf8'));
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: BUNDLE_PATH } }, history, 'another-workflow-id'),
  ).rejects.toThrow(/[Nn]ondeterminism|DeterminismViolation/);
});

test('a history that no longer matches the code is reported as nondeterministic', async () => {
  const history = JSON.parse(readFileSync(path.join(DIR, 'promotion-succeeded.json'), 'utf8'));
  // Pretend the recorded run scheduled a different first activity than the code does today.
  const scheduled = history.events.find(
    (e: { activityTaskScheduledEventAttributes?: unknown }) => e.activityTaskScheduledEventAttributes,
  );
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'someRemovedActivity';
  await expect(
    Worker.runReplayHistory({ workflowBundle: { codePath: BUNDLE_PATH } }, history, 'tampered'),
  ).rejects.toThrow(/[Nn]ondeterminism|DeterminismViolation/);
});
