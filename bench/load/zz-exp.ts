import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
// eslint-disable-next-line
const { ReusableVMWorkflowCreator } = require('/work/wt-bench-load/node_modules/@temporalio/worker/lib/workflow/reusable-vm');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mb = () => { gc(); gc(); return process.memoryUsage().heapUsed / 1048576; };
(async () => {
  const code = readFileSync(process.argv[2]!, 'utf8');
  const { parseWorkflowCode } = require('/work/wt-bench-load/node_modules/@temporalio/worker/lib/worker');
  const creator = await ReusableVMWorkflowCreator.create(parseWorkflowCode(code), 5000, new Set(['x']), undefined);
  const base = mb();
  const n = 50;
  const keep = [];
  for (let i = 0; i < n; i++) {
    const wf = await creator.createWorkflow({
      info: { workflowType: 'promotionWorkflow', runId: `r${i}`, workflowId: `w${i}`, namespace: 'default', taskQueue: 'q', firstExecutionRunId: `r${i}`, attempt: 1, historyLength: 1, historySize: 1, continueAsNewSuggested: false, unsafe: { isReplaying: false, now: Date.now }, startTime: new Date(), runStartTime: new Date(), searchAttributes: {}, typedSearchAttributes: [], memo: {}, priority: {} },
      randomnessSeed: [1, 2], now: Date.now(), showStackTraceSources: false,
    });
    keep.push(wf);
  }
  const cache = (creator as { context: { __TEMPORAL_ACTIVATOR__?: { moduleCache: Map<string, unknown> } } }).context.__TEMPORAL_ACTIVATOR__?.moduleCache;
  const keys = [...(cache?.keys() ?? [])];
  const groups = new Map<string, number>();
  for (const k of keys) { const g = k.replace(/^\.\/node_modules\/((@[^/]+\/)?[^/]+).*/, '$1').replace(/^\.\/(\w+)\/.*/, '$1'); groups.set(g, (groups.get(g) ?? 0) + 1); }
  console.log(keys.filter((k) => /zod|noble/.test(k)).slice(0, 40).join("\n"));
  console.log(`per-workflow modules: ${keys.length}`, JSON.stringify([...groups]));
  console.log(`base ${base.toFixed(1)} MB; per workflow ${((mb() - base) / n * 1024).toFixed(0)} KB`);
})().catch((e) => { console.error(e); process.exit(1); });
