/** Log lines: JSON for machines by default; with LOG_FORMAT=pretty one readable line per entry, ids kept. */
import { Writable } from 'node:stream';
import { createLogger } from '../../worker/logger';

function capture(): { stream: Writable & { write: Writable['write'] }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const ids = {
  workflowId: 'promotion-prod-v2-20261129T120000',
  runId: '01a228eb-1fe1-70b9-a27f-3a559cd115b2',
  activityId: '8',
  activityType: 'applyPlan',
  sdkComponent: 'worker',
  taskQueue: 'cdf-promotions',
};

test('JSON by default: one object per line with the ids', () => {
  const out = capture();
  createLogger({ destination: out.stream }).info({ ...ids, token: { token: 'x' } }, 'toolkit deploy started');
  const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
  expect(line).toEqual(expect.objectContaining({ ...ids, msg: 'toolkit deploy started', level: 30 }));
});

test('pretty: one line a person reads, with workflow, run and activity ids, without SDK noise', () => {
  const out = capture();
  createLogger({ format: 'pretty', destination: out.stream }).info(ids, 'toolkit deploy started');
  const text = out.text();
  expect(text.trim().split('\n')).toHaveLength(1);
  expect(text).toMatch(/^\[\d{2}:\d{2}:\d{2}\] INFO \(cdf-promotion\): toolkit deploy started /);
  for (const id of [ids.workflowId, ids.runId, ids.activityType]) expect(text).toContain(id);
  expect(text).not.toContain('sdkComponent');
  expect(text).not.toContain('taskQueue');
  expect(() => JSON.parse(text)).toThrow();
});
