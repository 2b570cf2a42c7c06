// The create form's Preview in a real browser (Debian's chromium driven by playwright-core) against
// the local runtime and a REAL test-bed cluster: before anything is submitted, the form lists what
// the topic filter would take from the source — selected and unselected topics with the reason —
// without a task name and without creating a task; editing the form hides the stale preview; the
// task is created only by "Create task" afterwards.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../console/build.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { side, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const root = join(import.meta.dirname, '..', '..');
const SCREENSHOTS = join(root, 'test-artifacts', 'screenshots');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-sync',
];

describe('web console: task preview in the create form', { timeout: 240_000 }, () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const TAKEN = `cpv_orders_${run}`;
  const EXCLUDED = `cpv_orders_dlq_${run}`;
  const UNMATCHED = `cpv_other_${run}`;

  before(async () => {
    await buildConsole();
    a = side(await testCluster('v5'));
    b = side(await testCluster('v4'));
    for (const t of [TAKEN, EXCLUDED, UNMATCHED])
      await a.admin.createOrUpdateTopicInCluster(a.c.name, { topicName: t, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    rt = await startRuntime({ store: 'embedded', env: { LOG_LEVEL: 'info' } });
    profile = mkdtempSync(join(tmpdir(), 'ferry-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await rt?.stop();
    for (const t of [TAKEN, EXCLUDED, UNMATCHED]) await a?.admin.deleteTopic(a.c.name, t).catch(() => undefined);
    a?.remoting.close();
    b?.remoting.close();
  });

  const topicRow = (name: string) => page.locator(`.preview-flow tr[data-topic="${name}"]`);

  it('shows selected and unselected topics with reasons before submit, creating nothing', async (t) => {
    await page.goto(`${rt.baseUrl}/`);
    await page.getByLabel('API token').fill(rt.adminToken);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('link', { name: 'New task', exact: true }).first().click();

    const src = page.locator('fieldset[data-side="source"]');
    await src.getByLabel('Cluster ID').fill(a.c.name);
    await src.getByLabel('Name server address').fill(a.c.nameServer);
    const tgt = page.locator('fieldset[data-side="target"]');
    await tgt.getByLabel('Cluster ID').fill(b.c.name);
    await tgt.getByLabel('Name server address').fill(b.c.nameServer);
    await page.getByLabel('Topics to include').fill(`cpv_orders.*_${run}`);
    await page.getByLabel('Topics to exclude').fill(`cpv_orders_dlq_.*`);
    // No task name yet: a preview does not need one.
    await page.getByRole('button', { name: 'Preview' }).click();

    const panel = page.getByRole('region', { name: 'Preview' });
    await panel.waitFor();
    assert.equal(await panel.locator('.preview-flow h3').innerText(), `${a.c.name}->${b.c.name}`);
    const cells = async (name: string) => (await topicRow(name).locator('td').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(await cells(TAKEN), [TAKEN, String(2 * a.c.brokers.length), 'yes', `included by pattern "cpv_orders.*_${run}"`]);
    assert.deepEqual(await cells(EXCLUDED), [EXCLUDED, String(2 * a.c.brokers.length), 'no', 'excluded by pattern "cpv_orders_dlq_.*"']);
    assert.deepEqual(await cells(UNMATCHED), [UNMATCHED, String(2 * a.c.brokers.length), 'no', 'not matched by any include pattern']);
    assert.equal(await topicRow(TAKEN).getAttribute('data-selected'), 'true');
    // Selected topics are listed first.
    const order = await panel.locator('tr[data-topic]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-selected')));
    assert.equal(order.indexOf('false') > order.lastIndexOf('true') || !order.includes('false'), true, order.join(','));
    assert.equal(await page.getByLabel('Task name').getAttribute('aria-invalid'), 'false', 'no name error for a preview');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-task-preview.png'), fullPage: true });
    t.diagnostic(`screenshot: ${join(SCREENSHOTS, 'console-task-preview.png')}`);

    const tasks = await client(rt)('GET', '/v1/tasks');
    assert.deepEqual(tasks.body.items, [], 'previewing created nothing');

    // An edit makes the preview stale: it goes away until asked for again.
    await page.getByLabel('Topics to exclude').fill('');
    await panel.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Preview' }).click();
    await topicRow(EXCLUDED).locator('td', { hasText: 'included by pattern' }).waitFor();
  });

  it('shows the API problem next to the field when the source cannot be read', async () => {
    const src = page.locator('fieldset[data-side="source"]');
    await src.getByLabel('Name server address').fill('127.0.0.1:1');
    await page.getByRole('button', { name: 'Preview' }).click();
    const problem = page.locator('.field[data-path="source.nameServer"] .field-error');
    await problem.waitFor();
    assert.match(await problem.innerText(), new RegExp(`the source cluster ${a.c.name} could not be read`));
    assert.equal(await page.getByRole('region', { name: 'Preview' }).count(), 0);
  });

  it('then creates the task with "Create task"', async () => {
    await page.locator('fieldset[data-side="source"]').getByLabel('Name server address').fill(a.c.nameServer);
    await page.getByLabel('Task name').fill(`cpv-${run}`);
    await page.getByLabel('Start replicating when created').uncheck();
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('heading', { name: 'Replication tasks' }).waitFor();
    await page.locator(`tr[data-task-name="cpv-${run}"]`).waitFor();
    const tasks = await client(rt)('GET', '/v1/tasks');
    assert.deepEqual(
      tasks.body.items.map((x: { name: string; status: string }) => [x.name, x.status]),
      [[`cpv-${run}`, 'stopped']],
    );
    assert.deepEqual(pageErrors, []);
  });
});
