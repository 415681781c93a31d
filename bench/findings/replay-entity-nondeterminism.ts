/**
 * A finding of the crash harness (bench/README.md, "Crash harness"): the environment entity of `crash-smoke`
 * failed its workflow tasks with a nondeterminism error after worker kills and a dev server restart.
 *
 *   npx tsx bench/findings/replay-entity-nondeterminism.ts
 *
 * replays two histories against the current workflow bundle (data/test/workflow-bundle.js; `npx jest test/replay`
 * or `npm run crash-harness` builds it):
 * - the recorded one fails: at event 51 it has the findClosedRuns activity the worker scheduled when the
 *   `acquire` update (49) came in, where a replay starts the 60 s timer instead;
 * - the same history with the workflow task 43-45 taken out (so the timer that fired at 42 and the update at 49
 *   reach the workflow in one activation) replays cleanly.
 * So the worker that wrote event 51 handled the timer and the update together, though the history had them in
 * two workflow tasks. Why is not established: it came 3 s after a dev server restart and seconds after worker
 * kills; a cached copy of the run that missed a workflow task completed elsewhere is the likely cause. The
 * entity's loop gave different commands for the two groupings (`woken` in workflows/environment-workflow.ts);
 * since `patched('entity-idle-stops-timer')` an idle entity cancels the timer, so it never fires into a task
 * without a command. This history predates the patch and still fails: that is the point of keeping it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { BUNDLE_PATH } from '../../test/helpers/temporal-server';

async function replay(file: string): Promise<string> {
  const history = JSON.parse(readFileSync(path.join(__dirname, file), 'utf8')) as object;
  try {
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: BUNDLE_PATH } },
      history,
      'environment-crash-smoke@cdf-promotions-crash',
    );
    return 'replays cleanly';
  } catch (err) {
    return `fails: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 240)}`;
  }
}

async function main(): Promise<void> {
  console.log(`recorded history:          ${await replay('entity-nondeterminism-history.json')}`);
  console.log(`timer and update together: ${await replay('entity-nondeterminism-merged.json')}`);
}

void main();
