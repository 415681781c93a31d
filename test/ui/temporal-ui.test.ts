/**
 * The Temporal UI, driven as a person would in a real browser (headless Chromium through playwright-core):
 * start a promotion from the "Start Workflow" page, read the run's current details (phase, plan table, the
 * approve command), approve it with "Send an Update" (a refused approval first: the refusal shows in the
 * dialog), and see the run complete with PromotionOutcome = succeeded. Against a real dev server with its
 * embedded UI (the one `temporal` 1.9.1 ships, UI 2.54.1), the fake CDF and a worker.
 *
 * Screenshots of every step land in test-artifacts/ui/ (not committed). Without a browser (see
 * scripts/ensure-tools.sh, or set CHROMIUM_PATH) the test is skipped, not failed.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { statusQuery } from '../../contracts/messages';
import { chromiumPath, freePort, launchChromium, type Browser } from '../helpers/browser';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE } from '../helpers/stack';
import { uniqueId } from '../helpers/workflows';

const CHROMIUM = chromiumPath();
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'ui');

if (!CHROMIUM)
  console.warn(
    `Temporal UI browser test SKIPPED: no Chromium found${process.env.CHROMIUM_PATH ? ` at CHROMIUM_PATH=${process.env.CHROMIUM_PATH}` : ''}. ` +
      'Run `bash scripts/ensure-tools.sh --browser` ' +
      "(as root with apt-get it installs Debian's chromium) or set CHROMIUM_PATH to a Chromium executable.",
  );
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

describeWithBrowser('the Temporal UI in headless Chromium', () => {
  let harness: Harness | undefined;
  let browser: Browser | undefined;
  let uiUrl = '';
  const screenshots: string[] = [];
  let t0 = Date.now();

  beforeAll(async () => {
    const uiPort = await freePort();
    uiUrl = `http://127.0.0.1:${uiPort}`;
    [harness, browser] = await Promise.all([
      startHarness({ server: { uiPort } }),
      launchChromium(CHROMIUM!, { width: 1440, height: 1500 }),
    ]);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.stop();
    if (screenshots.length) console.log(`Temporal UI screenshots:\n${screenshots.join('\n')}`);
  });

  async function shot(page: Page, name: string): Promise<void> {
    const file = path.join(ARTIFACTS, `${String(screenshots.length + 1).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    screenshots.push(`${file} (at ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  // Most of the time is the promotion itself (the Toolkit's dry run and deploy); the UI steps take seconds.
  test('start a promotion, read its current details, approve it with an update, see it succeed', async () => {
    const page = browser!.context.pages()[0] ?? (await browser!.context.newPage());
    // The run page long-polls its history and refreshes on a timer, so nothing here waits for "networkidle":
    // every step waits for what a person would look for on the screen.
    page.setDefaultTimeout(30_000);
    t0 = Date.now();
    const workflowId = uniqueId('promotion-prod-ui');
    try {
      // (a) Start it from the UI's "Start Workflow" page: ids, task queue, type and one JSON argument.
      await page.goto(`${uiUrl}/namespaces/default/workflows/start-workflow`);
      const main = page.getByRole('main');
      await main.getByRole('heading', { name: 'Start Workflow', level: 1 }).waitFor();
      await main.getByRole('textbox', { name: 'Workflow ID' }).fill(workflowId);
      await main.getByRole('textbox', { name: 'Task Queue' }).fill(TASK_QUEUE);
      await main.getByRole('textbox', { name: 'Workflow Type' }).fill('promotionWorkflow');
      // The page checks the task queue for pollers once the field is left: our worker is there.
      await main.getByRole('status').filter({ hasText: 'Task Queue is Active' }).waitFor();
      const input = main.getByRole('textbox', { name: 'Data' });
      await input.fill(
        JSON.stringify({ environment: 'prod', ref: 'v1', requestedBy: 'alice', reason: 'from the UI' }),
      );
      // Leaving the editor reformats the JSON and moves the button; click it once the layout has settled.
      await input.blur();
      await expectText(input, '"requestedBy": "alice"');
      await shot(page, 'start-workflow-form');
      await page.getByTestId('start-workflow-button').click();
      const started = page.getByRole('link', { name: 'Workflow started successfully' });
      await started.waitFor();
      await shot(page, 'started');
      // The toast goes away after 5 s; on a slow machine, go to the run the way its link would.
      await started
        .click({ timeout: 3_000 })
        .catch(() => page.goto(`${uiUrl}/namespaces/default/workflows/${workflowId}`));
      await page.waitForURL(new RegExp(`/workflows/${workflowId}/[0-9a-f-]{36}`));

      // (b) The current details, rendered from the markdown the workflow keeps. They are fetched when the tab
      // opens and again on "R" (the page says so), so press R until the plan is there.
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      const details = page.frameLocator('#user-metadata-current-details').locator('body');
      await refreshUntil(page, details.getByText('promotion to prod: awaiting approval'), 90_000);
      const planHash = (
        await details.getByRole('listitem').filter({ hasText: 'plan hash:' }).locator('code').innerText()
      ).trim();
      expect(planHash).toMatch(/^[0-9a-f]{64}$/);
      const status = await harness!.env.client.workflow.getHandle(workflowId).query(statusQuery);
      expect(status.planHash).toBe(planHash);
      const plan = details.getByRole('table');
      await plan.getByRole('row', { name: 'resource create update delete unchanged' }).waitFor();
      await plan.getByRole('row', { name: /^assets \d+ \d+ \d+ \d+$/ }).waitFor();
      await plan.getByRole('row', { name: /^total \d+ \d+ \d+ \d+$/ }).waitFor();
      await details.getByText('Who may approve: bob, carol.').waitFor();
      await details
        .getByText(`cdf-promote approve ${workflowId} --approver <you> --plan-hash ${planHash}`)
        .waitFor();
      // The R presses leave a keyboard focus ring around the page; not for the pictures.
      await page.evaluate('document.activeElement && document.activeElement.blur()');
      await shot(page, 'current-details-awaiting-approval');
      if (process.env.UPDATE_DOCS_SCREENSHOT === '1') await docsScreenshot(page, details);

      // (c) More Actions -> Send an Update -> approve, with a JSON payload. First someone who may not approve:
      // the dialog shows the workflow's reason. Then bob, with the plan hash read above.
      await page.getByRole('button', { name: 'More Actions' }).click();
      await page.getByRole('menuitem', { name: 'Send an Update' }).click();
      const dialog = page.locator('dialog[data-testid="update-confirmation-modal"][open]');
      await dialog.getByTestId('update-select-button').click();
      await dialog.getByRole('option', { name: /^approve\b/ }).click();
      const payload = dialog.getByRole('textbox', { name: 'Data' });
      await payload.fill(JSON.stringify({ approver: 'mallory', planHash }));
      await payload.blur();
      await dialog.getByRole('button', { name: 'Submit' }).click();
      await dialog.getByRole('alert').filter({ hasText: 'mallory is not an approver for prod' }).waitFor();
      await shot(page, 'update-refused');
      await payload.fill(JSON.stringify({ approver: 'bob', planHash }));
      await payload.blur();
      await shot(page, 'update-approve-by-bob');
      await dialog.getByRole('button', { name: 'Submit' }).click();
      await page.getByText('Update successful').first().waitFor();
      await dialog.waitFor({ state: 'detached' });
      await shot(page, 'update-successful');

      // (d) The run ends (the server says so), and the UI shows it: Completed, "done — succeeded" in the current
      // details, PromotionOutcome = succeeded. The run page refreshes its header on a timer of its own (about
      // 10 s), so, like a person who does not want to wait, reload it.
      const result = await harness!.env.client.workflow.getHandle(workflowId).result();
      expect(result).toEqual(expect.objectContaining({ outcome: 'succeeded' }));
      await page.reload();
      await page
        .locator('[data-testid="execution-status"], [data-testid="workflow-status"]')
        .filter({ hasText: 'Completed' })
        .first()
        .waitFor();
      await refreshUntil(page, details.getByText('promotion to prod: done — succeeded'), 15_000);
      await details.getByText(/approved by bob at/).waitFor();
      await shot(page, 'completed-current-details');
      await page.getByRole('tab', { name: 'Search Attributes' }).click();
      await expectText(
        page.getByRole('textbox', { name: 'Search Attributes' }),
        '"PromotionOutcome": "succeeded"',
      );
      await shot(page, 'completed-search-attributes');
    } catch (err) {
      await shot(page, 'failed').catch(() => undefined);
      throw err;
    }
  }, 180_000);
});

/**
 * With UPDATE_DOCS_SCREENSHOT=1, the README's picture (docs/images/temporal-ui-current-details.png): the run
 * page without the navigation, down to the end of the current details.
 */
async function docsScreenshot(page: Page, details: Locator): Promise<void> {
  // The header's figures (duration, history size) are as of when the page opened: reload for fresh ones.
  await page.reload();
  await details.getByText('promotion to prod: awaiting approval').waitFor();
  const main = await page.getByRole('main').boundingBox();
  const frame = await page.locator('#user-metadata-current-details').boundingBox();
  if (!main || !frame) throw new Error('the run page has no main region or current details to photograph');
  const height = Math.min(frame.y + frame.height + 16, main.y + main.height) - main.y;
  const file = path.resolve(__dirname, '..', '..', 'docs', 'images', 'temporal-ui-current-details.png');
  mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, clip: { x: main.x, y: main.y, width: main.width, height } });
  console.log(`README screenshot updated: ${file}`);
}

/** Waits until the locator's text contains `text` (Playwright's expect is not part of playwright-core). */
async function expectText(locator: Locator, text: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await locator.innerText().catch(() => '');
    if (last.includes(text)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`expected the text to contain ${JSON.stringify(text)}; it was ${JSON.stringify(last)}`);
}

/** Presses R (the current-details refresh key) every 1.5 s until the locator shows up. */
async function refreshUntil(page: Page, locator: Locator, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await locator.waitFor({ timeout: 1_500 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await page.keyboard.press('r');
    }
  }
}
