// The web console in a real browser (Debian's chromium driven by playwright-core) against the local
// runtime and two REAL test-bed clusters: sign in with a token, create a task through the form, watch
// it run and its charts move, stop it, reset its offset, read a start_failed reason on hover, delete
// it; and the form's inline messages equal the API's answers for the same bad input.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../console/build.ts';
import { freePortBlock } from '../testbed/ports.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const root = join(import.meta.dirname, '..', '..');
const SCREENSHOTS = join(root, 'test-artifacts', 'screenshots');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const MESSAGES = 120;

/** What a chart holds (data-chart): series labels and uPlot's data, [x, ...one array per series]. */
interface ChartData {
  series: string[];
  data: (number | null)[][];
}

describe('web console', { timeout: 240_000 }, () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const run = Date.now().toString(36);
  const topic = `console_${run}`;
  const taskName = `console-${run}`;
  let taskId = '';

  before(async () => {
    // The test drives the console built from the current sources.
    await buildConsole();
    a = side(await testCluster('v4'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '8000', LOG_LEVEL: 'info' },
    });
    profile = mkdtempSync(join(tmpdir(), 'ferry-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
  });

  const row = (name: string) => page.locator(`tr[data-task-name="${name}"]`);
  const screenshot = async (t: TestContext, name: string) => {
    const path = join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    t.diagnostic(`screenshot: ${path}`);
  };
  const chart = async (metric: string): Promise<ChartData> => {
    const raw = await page.locator(`figure.chart[data-metric="${metric}"]`).getAttribute('data-chart');
    assert.ok(raw, `chart ${metric} has data`);
    return JSON.parse(raw) as ChartData;
  };
  const chartTotal = (c: ChartData) =>
    c.data
      .slice(1)
      .flat()
      .reduce<number>((sum, v) => sum + (v ?? 0), 0);

  it('serves the console at / with its assets, and client routes fall back to index.html', async () => {
    const index = await fetch(`${rt.baseUrl}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type')!, /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    const js = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const css = /href="(\/assets\/main-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    assert.ok(js && css, html);
    const script = await fetch(`${rt.baseUrl}${js}`);
    assert.match(script.headers.get('content-type')!, /^text\/javascript/);
    assert.match(script.headers.get('cache-control')!, /immutable/);
    assert.match((await fetch(`${rt.baseUrl}${css}`)).headers.get('content-type')!, /^text\/css/);
    assert.equal(await (await fetch(`${rt.baseUrl}/tasks/task-123`)).text(), html);
    assert.equal((await fetch(`${rt.baseUrl}/assets/missing.js`)).status, 404);
    assert.equal((await fetch(`${rt.baseUrl}/assets/%2e%2e%2f%2e%2e%2fpackage.json`)).status, 404);
    // The API keeps answering JSON beside it.
    assert.equal((await fetch(`${rt.baseUrl}/v1/tasks`)).status, 401);
  });

  it('asks for a token, refuses a wrong one, and keeps the token in sessionStorage only', async () => {
    await page.goto(`${rt.baseUrl}/`);
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('This token was not accepted').waitFor();
    await page.getByLabel('API token').fill(rt.adminToken);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Replication tasks' }).waitFor();
    const storage = await page.evaluate(
      "({ session: sessionStorage.getItem('ferry.token'), local: localStorage.length, cookie: document.cookie })",
    );
    assert.deepEqual(storage, { session: rt.adminToken, local: 0, cookie: '' });
  });

  it('creates a task between the two clusters through the form and shows it running in the list', async (t) => {
    await page.getByRole('link', { name: 'New task', exact: true }).first().click();
    await page.getByLabel('Task name').fill(taskName);
    const src = page.locator('fieldset[data-side="source"]');
    await src.getByLabel('Cluster ID').fill(a.c.name);
    await src.getByLabel('Name server address').fill(a.c.nameServer);
    const tgt = page.locator('fieldset[data-side="target"]');
    await tgt.getByLabel('Cluster ID').fill(b.c.name);
    await tgt.getByLabel('Name server address').fill(b.c.nameServer);
    await tgt.getByLabel('ACL enabled on this cluster').check();
    await tgt.getByLabel('Access key (admin)').fill(b.c.acl!.accessKey);
    await tgt.getByLabel('Secret key').fill(b.c.acl!.secretKey);
    await page.getByLabel('Topics to include').fill(topic);
    await page.getByLabel('TPS limit').fill('5000');
    await page.getByRole('button', { name: 'Create task' }).click();

    await page.getByRole('heading', { name: 'Replication tasks' }).waitFor();
    await row(taskName).locator('.status[data-status="running"]').waitFor({ timeout: 60_000 });
    taskId = (await row(taskName).getAttribute('data-task-id'))!;
    assert.match(taskId, /^task-/);
    assert.match(await row(taskName).innerText(), new RegExp(`One-way\\s+${a.c.name} → ${b.c.name}`));
    // The API's guards: a running task cannot be edited, reset or deleted, nor started again.
    for (const action of ['start', 'edit', 'reset', 'delete'])
      assert.equal(await row(taskName).locator(`button[data-action="${action}"]`).isDisabled(), true, action);
    assert.equal(await row(taskName).locator('button[data-action="stop"]').isEnabled(), true);
    await screenshot(t, 'console-task-list');
  });

  it('shows the configuration with secrets masked and charts that move as messages are replicated', async (t) => {
    await row(taskName).getByRole('link', { name: taskName }).click();
    await page.getByRole('heading', { name: 'Basic information' }).waitFor();
    const config = await page.locator('section[aria-labelledby="configuration"]').innerText();
    assert.match(config, /access key ferr\*\*\*\*, secret key set/);
    assert.ok(!(await page.content()).includes(b.c.acl!.secretKey), 'the secret key is nowhere on the page');

    for (let q = 0; q < 2; q++) {
      const batch = Array.from({ length: MESSAGES / 2 }, (_, i) => ({ body: Buffer.from(`console ${q}/${i}`), tags: 'console' }));
      await a.broker.sendBatch(a.addr, topic, q, batch);
    }
    // The charts hold what the metrics API serves; they refresh every few seconds.
    // The charts hold what the metrics API serves and refresh every few seconds.
    const deadline = Date.now() + 60_000;
    while ((chartTotal(await chart('consumed')) < MESSAGES || chartTotal(await chart('replicated')) < MESSAGES) && Date.now() < deadline) {
      await page.waitForTimeout(500);
    }
    const consumed = await chart('consumed');
    assert.deepEqual(consumed.series, [`${a.c.name} → ${b.c.name}`]);
    assert.equal(chartTotal(consumed), MESSAGES);
    assert.equal(chartTotal(await chart('replicated')), MESSAGES);
    assert.equal(chartTotal(await chart('failed')), 0);
    assert.equal(consumed.data[0]!.length, consumed.data[1]!.length, 'one value per minute of the range');
    const delay = await chart('delayP99Ms');
    assert.ok(
      delay.data[1]!.some((v) => typeof v === 'number' && v >= 0),
      'a delay was measured',
    );

    // Metadata sync lists the topic the task's clusters share.
    await page.getByLabel('Filter metadata by name').fill(topic);
    await page.locator(`table.metadata tr[data-kind="topic"][data-name="${topic}"]`).first().waitFor({ timeout: 30_000 });
    await page.locator('tr[data-action="create"]').waitFor();
    await screenshot(t, 'console-task-details');
  });

  it('stops the task and resets its offset', async () => {
    await page.locator('section[aria-labelledby="basic-info"] button[data-action="stop"]').click();
    const basic = page.locator('section[aria-labelledby="basic-info"]');
    await basic.locator('.status[data-status="stopped"]').waitFor();
    for (const action of ['start', 'edit', 'reset', 'delete'])
      await basic.locator(`button[data-action="${action}"]:not([disabled])`).waitFor();
    assert.equal(await basic.locator('button[data-action="stop"]').isDisabled(), true);

    await basic.locator('button[data-action="reset"]').click();
    const from = Date.now() - 10 * 60_000;
    await page.getByLabel('Replicate again from').fill(localInput(from));
    await page.locator('button[data-action="confirm-reset"]').click();
    await page.locator('tr[data-action="reset-offset"]').waitFor();
    const pending = Number(await basic.locator('[data-pending-reset]').getAttribute('data-pending-reset'));
    assert.equal(pending, Math.floor(from / 1000) * 1000, 'the chosen time, to the second');
    const task = (await client(rt)('GET', `/v1/tasks/${taskId}`)).body;
    assert.equal(task.pendingReset.timestamp, pending);
  });

  it('shows why a task failed to start when hovering its status', async () => {
    const dead = `127.0.0.1:${await freePortBlock(1)}`;
    const created = await client(rt)('POST', '/v1/tasks', {
      name: `console-dead-${run}`,
      direction: 'one-way',
      source: { ...endpointOf(a.c), nameServer: dead },
      target: endpointOf(b.c),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    const failed = await waitForStatus(client(rt), created.body.id, 'start_failed');

    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    const badge = row(`console-dead-${run}`).locator('.status[data-status="start_failed"]');
    await badge.waitFor();
    const tooltip = badge.getByRole('tooltip');
    assert.equal(await tooltip.isVisible(), false, 'the reason shows on hover only');
    await badge.locator('.badge').hover();
    await tooltip.waitFor({ state: 'visible' });
    const text = await tooltip.innerText();
    assert.equal(text, failed.statusReason);
    assert.ok(text.includes(dead) && text.includes('unreachable'), text);
  });

  it('deletes tasks from the list after confirming', async () => {
    for (const name of [taskName, `console-dead-${run}`]) {
      await row(name).locator('button[data-action="delete"]').click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
      await row(name).waitFor({ state: 'detached' });
    }
    assert.equal((await client(rt)('GET', `/v1/tasks/${taskId}`)).status, 404);
  });

  it("shows the API's own validation messages for the same bad input, next to the field they name", async () => {
    const good = {
      name: `console-valid-${run}`,
      direction: 'one-way',
      source: {
        clusterType: 'self-built',
        clusterId: a.c.name,
        protocol: 'remoting',
        nameServer: a.c.nameServer,
        networkType: 'public',
        acl: { enabled: false },
      },
      target: {
        clusterType: 'self-built',
        clusterId: b.c.name,
        protocol: 'remoting',
        nameServer: b.c.nameServer,
        networkType: 'public',
        acl: { enabled: false },
      },
      startOffset: { type: 'latest' },
      filter: { topics: { include: [topic], exclude: [] }, expression: { type: 'TAG', value: '*' } },
      tpsLimit: null,
      idempotentResume: true,
      start: false,
    };
    type Body = typeof good;
    const cases: { field: string; body: (g: Body) => Body; fill: () => Promise<void>; checkedBy: 'console' | 'api' }[] = [
      {
        field: 'name',
        checkedBy: 'console',
        body: (g) => ({ ...g, name: 'bad name!' }),
        fill: () => page.getByLabel('Task name').fill('bad name!'),
      },
      {
        field: 'source.nameServer',
        checkedBy: 'console',
        body: (g) => ({ ...g, source: { ...g.source, nameServer: '127.0.0.1:99999' } }),
        fill: () => page.locator('fieldset[data-side="source"]').getByLabel('Name server address').fill('127.0.0.1:99999'),
      },
      {
        field: 'filter.expression.value',
        checkedBy: 'console',
        body: (g) => ({ ...g, filter: { ...g.filter, expression: { type: 'SQL92', value: "region = 'gz' AND" } } }),
        fill: async () => {
          await page.getByLabel('Message filter').selectOption('SQL92');
          await page.getByLabel('SQL92 expression').fill("region = 'gz' AND");
        },
      },
      // Only the API knows this one (it compares the two sides); its answer lands next to the field.
      {
        field: 'target.nameServer',
        checkedBy: 'api',
        body: (g) => ({ ...g, target: { ...g.target, nameServer: a.c.nameServer } }),
        fill: () => page.locator('fieldset[data-side="target"]').getByLabel('Name server address').fill(a.c.nameServer),
      },
    ];
    const api = client(rt);
    for (const c of cases) {
      const posted = await api('POST', '/v1/tasks', c.body(good));
      assert.equal(posted.status, 400, posted.text);
      assert.equal(posted.body.error.field, c.field);

      await page.goto(`${rt.baseUrl}/tasks/new`);
      await page.getByLabel('Task name').fill(good.name);
      const src = page.locator('fieldset[data-side="source"]');
      await src.getByLabel('Cluster ID').fill(good.source.clusterId);
      await src.getByLabel('Name server address').fill(good.source.nameServer);
      const tgt = page.locator('fieldset[data-side="target"]');
      await tgt.getByLabel('Cluster ID').fill(good.target.clusterId);
      await tgt.getByLabel('Name server address').fill(good.target.nameServer);
      await page.getByLabel('Topics to include').fill(topic);
      await page.getByLabel('Start replicating when created').uncheck();
      await c.fill();
      const requests: string[] = [];
      const onRequest = (r: { method(): string; url(): string }) => r.method() === 'POST' && requests.push(r.url());
      page.on('request', onRequest);
      await page.getByRole('button', { name: 'Create task' }).click();
      const shown = page.locator(`.field[data-path="${c.field}"] .field-error`);
      await shown.waitFor();
      page.off('request', onRequest);
      assert.equal(await shown.locator('.message').innerText(), posted.body.error.message, c.field);
      assert.equal(await shown.getAttribute('data-field'), posted.body.error.field);
      assert.ok((await shown.innerText()).startsWith(`${c.field}: `), 'the field path is shown with the message');
      assert.equal(await page.locator('.field-error').count(), 1, 'only the bad field is flagged');
      assert.equal(requests.length, c.checkedBy === 'api' ? 1 : 0, `${c.field} is checked by the ${c.checkedBy}`);
    }
    assert.equal((await api('GET', '/v1/tasks')).body.items.length, 0, 'nothing was created');
  });

  it('sends the user back to token entry when the API refuses the stored token', async () => {
    await page.evaluate("sessionStorage.setItem('ferry.token', 'revoked-token')");
    await page.goto(`${rt.baseUrl}/`);
    await page.getByText('Signed out:').waitFor();
    await page.getByLabel('API token').waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('ferry.token')"), null);
    assert.deepEqual(pageErrors, [], 'no script errors on any page');
  });
});

/** The `datetime-local` value for ms in the browser's zone (the test's zone: same machine). */
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
