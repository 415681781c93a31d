/**
 * The folders' import boundaries are kept by ESLint (eslint.config.mjs). Each case lints a snippet as if it were
 * a file in that folder, with the project's own configuration, and expects the named rule to refuse it, or to
 * let it through.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

interface LintCase {
  file: string;
  code: string;
  /** The boundary rule expected in the message; undefined when the import is allowed. */
  rule?: string;
}

const CASES: LintCase[] = [
  {
    file: 'workflows/probe.ts',
    code: "import type { createActivities } from '../activities';\nexport type X = typeof createActivities;\n",
    rule: 'workflow-imports',
  },
  {
    file: 'workflows/probe.ts',
    code: "import { createToolkitSteps } from '../activities/toolkit/toolkit-steps';\nexport const x = createToolkitSteps;\n",
    rule: 'workflow-imports',
  },
  {
    file: 'workflows/probe.ts',
    code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
    rule: 'workflow-deterministic',
  },
  {
    file: 'workflows/probe.ts',
    code: "import pino from 'pino';\nexport const x = pino;\n",
    rule: 'workflow-deterministic',
  },
  {
    file: 'contracts/probe.ts',
    code: "import { runPipeline } from '../workflows/pipeline';\nexport const x = runPipeline;\n",
    rule: 'contracts-leaf',
  },
  {
    file: 'client/commands/probe.ts',
    code: "import { createWorker } from '../../worker/create-worker';\nexport const x = createWorker;\n",
    rule: 'client-imports',
  },
  {
    file: 'client/probe.ts',
    code: "import { ConfigRepository } from '../activities/git/config-repository';\nexport const x = ConfigRepository;\n",
    rule: 'client-imports',
  },
  {
    file: 'config/probe.ts',
    code: "import { createActivities } from '../activities';\nexport const x = createActivities;\n",
    rule: 'shared-leaf',
  },
  {
    file: 'activities/steps/probe.ts',
    code: "import { createWorker } from '../../worker/create-worker';\nexport const x = createWorker;\n",
    rule: 'activity-imports',
  },
  {
    file: 'worker/probe.ts',
    code: "import { startFakeCdf } from '../fakes/cdf/server';\nexport const x = startFakeCdf;\n",
    rule: 'production-code',
  },
  {
    file: 'activities/probe.ts',
    code: "import { startHarness } from '../test/helpers/harness';\nexport const x = startHarness;\n",
    rule: 'production-code',
  },
  // Allowed: the imports the architecture is built on.
  {
    file: 'workflows/probe.ts',
    code: "import type { PromotionActivities } from '../contracts/activity-types';\nexport type X = PromotionActivities;\n",
  },
  {
    file: 'client/commands/probe.ts',
    code: "import { dataLayout } from '../../config/data-layout';\nimport { openArtifactStore } from '../../artifacts/open-artifact-store';\nexport const x = [dataLayout, openArtifactStore];\n",
  },
  {
    file: 'test/probe.ts',
    code: "import { startFakeCdf } from '../fakes/cdf/server';\nexport const x = startFakeCdf;\n",
  },
];

type LintResult = Array<{ file: string; messages: Array<{ ruleId: string | null; message: string }> }>;

let results: LintResult;

beforeAll(() => {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'test', 'support', 'lint-probe.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(CASES.map(({ file, code }) => ({ file, code }))),
    encoding: 'utf8',
  });
  results = JSON.parse(out) as LintResult;
}, 60_000);

test.each(CASES.map((c, i) => [c.rule ? `refuses (${c.rule})` : 'allows', c.file, i] as const))(
  '%s an import in %s (case %#)',
  (_what, _file, i) => {
    const expected = CASES[i]!;
    const messages = results[i]!.messages;
    if (expected.rule) {
      expect(messages).toEqual([
        expect.objectContaining({
          ruleId: 'no-restricted-imports',
          message: expect.stringContaining(`[boundary: ${expected.rule}]`),
        }),
      ]);
    } else {
      expect(messages).toEqual([]);
    }
  },
);
