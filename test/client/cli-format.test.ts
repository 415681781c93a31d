/** Pure parts of the CLI: generated workflow ids and the text an operator reads. */
import type { PlanSummary } from '../../contracts/types';
import {
  formatPlanSummary,
  formatReport,
  nextCommands,
  shellQuote,
  terminalSafe,
  uiLink,
} from '../../client/output';
import { promotionWorkflowId, rollbackWorkflowId, sanitizeRef, utcStamp } from '../../client/workflow-ids';

const AT = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
const globals = {
  address: '127.0.0.1:7233',
  namespace: 'default',
  taskQueue: 'q',
  uiUrl: 'http://ui:8233/',
  json: false,
};

test('workflow ids show kind, environment, ref or commit and a UTC timestamp', () => {
  expect(utcStamp(AT)).toBe('20250102T030405');
  expect(promotionWorkflowId('prod', 'v1.4.0', AT)).toBe('promotion-prod-v1-4-0-20250102T030405');
  expect(promotionWorkflowId('prod', 'Feature/Big__Change', AT)).toBe(
    'promotion-prod-feature-big-change-20250102T030405',
  );
  expect(rollbackWorkflowId('prod', '0123456789abcdef0123', AT)).toBe(
    'rollback-prod-0123456789ab-20250102T030405',
  );
  expect(sanitizeRef(`${'a'.repeat(39)}/b`)).toBe('a'.repeat(39));
  expect(sanitizeRef('x'.repeat(100))).toHaveLength(40);
  expect(sanitizeRef('___')).toBe('ref');
});

test('links and follow-up commands are copy-pasteable', () => {
  expect(uiLink('http://ui:8233/', 'default', 'promotion-prod-v1')).toBe(
    'http://ui:8233/namespaces/default/workflows/promotion-prod-v1',
  );
  expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  const next = nextCommands('wf-1', globals);
  expect(next.status).toBe('cdf-promote status wf-1 --watch');
  expect(nextCommands('wf-1', { ...globals, address: 'temporal:7233' }).approve).toMatch(
    /^cdf-promote --address temporal:7233 approve wf-1 --approver/,
  );
});

test('plan summary table', () => {
  const row = { create: 1, update: 0, delete: 0, unchanged: 2, skipped: 0, total: 3, ableToDeploy: true };
  const summary: PlanSummary = { resources: [{ resource: 'views', ...row }], totals: row, empty: false };
  expect(formatPlanSummary(summary).split('\n')).toEqual([
    'resource  create  update  delete  unchanged',
    'views          1       0       0          2',
    'total          1       0       0          2',
  ]);
});

test('the status report names the Toolkit version the commit pins', () => {
  const base = {
    kind: 'promotion' as const,
    environment: 'prod',
    ref: 'v2',
    commit: 'a'.repeat(40),
    approvals: [],
    rejections: [],
    refusedApprovals: [],
    timings: [],
    smokeResults: [],
  };
  expect(formatReport('promotion-prod-v2', { ...base, toolkitVersion: '0.9.28' })).toMatch(
    /^toolkit: +cognite-toolkit 0\.9\.28$/m,
  );
  expect(formatReport('promotion-prod-v2', { ...base, toolkitVersion: null })).toMatch(
    /^toolkit: +configured executable \(no pin\)$/m,
  );
  expect(formatReport('promotion-prod-v2', base)).not.toMatch(/^toolkit:/m);
});

test('text that reaches the terminal cannot forge lines or drive the terminal', () => {
  const base = {
    kind: 'promotion' as const,
    environment: 'prod',
    ref: 'v2',
    approvals: [{ approver: 'bob', at: '2026-01-01T00:00:00Z', comment: 'ok\nphase:              done' }],
    rejections: [],
    refusedApprovals: [
      { approver: 'mallory', at: '2026-01-01T00:00:00Z', why: 'x\u001b[2K\u001b[1Goutcome: succeeded' },
    ],
    timings: [],
    smokeResults: [],
    reason: 'release\r\nplan hash:          ' + 'f'.repeat(64),
    failure: 'bad \u202eecnarongi\u202c text',
  };
  const text = formatReport('promotion-prod-v2', base);
  expect(text).not.toMatch(/\u001b|\r|\u202e/);
  // Every line still starts with a field of ours: nothing a caller sent became a line of its own.
  expect(text.split('\n').filter((l) => /^phase:|^plan hash:|^outcome:/.test(l))).toEqual([]);
  expect(terminalSafe('a\u0007b\u009bc\u200bd\ne')).toBe('abcd\ne');
});
