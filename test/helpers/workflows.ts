/** Small helpers for driving workflows from tests through the real client. */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../contracts/messages';
import type { Phase, PromotionStatus } from '../../contracts/types';

export async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (s: PromotionStatus) => boolean,
  timeoutMs = 60_000,
): Promise<PromotionStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: PromotionStatus | undefined;
  for (;;) {
    try {
      last = await handle.query(statusQuery);
      if (predicate(last)) return last;
    } catch {
      // The first workflow task may not have run yet.
    }
    if (last?.phase === 'done') {
      throw new Error(`workflow finished without reaching the expected status: ${JSON.stringify(last)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for workflow status; last status: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const waitForPhase = (handle: WorkflowHandle, phase: Phase, timeoutMs?: number) =>
  waitForStatus(handle, (s) => s.phase === phase, timeoutMs);

/**
 * With RECORD_HISTORIES=1, saves the run's history under test/histories/ for the replay test. CI replays the
 * committed files, so a workflow change that breaks in-flight runs fails the build.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const dir = path.resolve(__dirname, '..', 'histories');
  mkdirSync(dir, { recursive: true });
  const { historyToJSON } = await import('@temporalio/common/lib/proto-utils');
  writeFileSync(path.join(dir, `${name}.json`), historyToJSON(history));
}

let counter = 0;
export const uniqueId = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
