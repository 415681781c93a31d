/**
 * What the Temporal UI shows of a run, without a query: handler descriptions (what "Send an Update" lists) and
 * the current details markdown, read through the SDK's built-in `__temporal_workflow_metadata` query the UI uses.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveUpdate } from '../../contracts/messages';
import { PLAN_HASH, mockActivities } from '../helpers/mock-activities';
import { startPromotion, startTimeSkipping, withWorker } from '../helpers/time-skipping';
import { waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(() => env?.teardown());

interface Metadata {
  definition: {
    type: string;
    queryDefinitions: Array<{ name: string; description?: string }>;
    signalDefinitions: Array<{ name: string; description?: string }>;
    updateDefinitions: Array<{ name: string; description?: string }>;
  };
  currentDetails: string;
}

test('every message is described, and the details say what waits, for whom, and how to approve', async () => {
  const mock = mockActivities();
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue, {
      reason: 'release [click here](http://evil.example) <script>alert(1)</script>\n# heading',
    });
    await waitForPhase(handle, 'awaiting_approval');
    const meta = (await handle.query('__temporal_workflow_metadata')) as Metadata;
    const d = meta.definition;
    expect(d.updateDefinitions.map((u) => u.name).sort()).toEqual(['approve', 'cancel', 'reject']);
    const handlers = [...d.updateDefinitions, ...d.signalDefinitions, ...d.queryDefinitions].filter(
      (h) => !h.name.startsWith('__'),
    );
    expect(handlers.length).toBeGreaterThanOrEqual(11);
    for (const h of handlers)
      expect({ name: h.name, described: (h.description ?? '').length > 20 }).toEqual({
        name: h.name,
        described: true,
      });
    expect(d.updateDefinitions.find((u) => u.name === 'approve')?.description).toContain('"planHash"');

    const md = meta.currentDetails;
    expect(md).toContain('**promotion to prod**: awaiting approval');
    expect(md).toContain('| views | 1 | 1 | 0 | 2 |');
    expect(md).toContain('| **total** | 3 | 2 | 0 | 5 |');
    expect(md).toContain('### Approvals: 0 of 1');
    expect(md).toContain('Who may approve: bob, carol, dave.');
    expect(md).toContain(
      `\`cdf-promote approve ${handle.workflowId} --approver <you> --plan-hash ${PLAN_HASH}\``,
    );
    expect(md).toContain(`input \`{"approver": "<you>", "planHash": "${PLAN_HASH}"}\``);
    // The requester's text is inert: no link, no HTML, no heading of its own.
    expect(md).toContain('\\[click here\\]\\(http://evil\\.example\\)');
    expect(md).not.toMatch(/<script>|\]\(http|\n# heading/);

    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol', planHash: PLAN_HASH }] });
    await handle.result();
    const done = (await handle.query('__temporal_workflow_metadata')) as Metadata;
    expect(done.currentDetails).toContain('**promotion to prod**: done — **succeeded**');
    expect(done.currentDetails).toMatch(/- approved by carol at \S+/);
    expect(done.currentDetails).toContain('### Smoke checks');
    expect(done.currentDetails).not.toContain('### To approve');
  });
});
