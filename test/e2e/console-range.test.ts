// The task page's time range and catch-up progress in a real browser (Debian's chromium driven by
// playwright-core) against the local runtime and REAL test-bed clusters: choosing a range asks the
// metrics API for that range (then only for its newest minutes) and redraws the charts with that
// range's steps; a task started from `earliest` over a backlog, with a TPS limit so it drains for
// a minute or two, shows per flow the backlog its start offsets left, percent done, what is left, the
// drain rate and an estimate, until it is caught up.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../console/build.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
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
const MINUTE = 60_000;
const BACKLOG = 1200;
const TPS = 40;

interface ChartData {
  series: string[];
  data: (number | null)[][];
}

describe('web console: chart range and catch-up progress', { timeout: 360_000 }, () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const metricsRequests: URL[] = [];
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const topic = `crange_${run}`;
  let taskId = '';

  before(async () => {
    await buildConsole();
    a = side(await testCluster('v5'));
    b = side(await testCluster('v4'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    // The backlog is there before the task exists.
    for (let q = 0; q < 2; q++)
      for (let i = 0; i < BACKLOG / 2; i += 100) {
        const batch = Array.from({ length: 100 }, (_, j) => ({ body: Buffer.from(`range ${q}/${i + j}`), tags: 'range' }));
        await a.broker.sendBatch(a.addr, topic, q, batch);
      }
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
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname.endsWith('/metrics')) metricsRequests.push(url);
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (taskId) {
      await client(rt)('POST', `/v1/tasks/${taskId}/stop`).catch(() => undefined);
      await waitForStatus(client(rt), taskId, 'stopped').catch(() => undefined);
    }
    await rt?.stop();
    for (const s of [a, b]) await s?.admin.deleteTopic(s.c.name, topic).catch(() => undefined);
    a?.remoting.close();
    b?.remoting.close();
  });

  const screenshot = async (t: TestContext, name: string) => {
    const path = join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    t.diagnostic(`screenshot: ${path}`);
  };
  const chart = async (metric: string): Promise<ChartData | null> => {
    const raw = await page.locator(`figure.chart[data-metric="${metric}"]`).getAttribute('data-chart');
    return raw ? (JSON.parse(raw) as ChartData) : null;
  };
  /** Waits until the chart's x axis has `points` values `stepSec` apart. */
  const chartSteps = async (metric: string, points: number, stepSec: number) => {
    const deadline = Date.now() + 20_000;
    let last: ChartData | null = null;
    while (Date.now() < deadline) {
      last = await chart(metric);
      const x = (last?.data[0] ?? []) as number[];
      if (x.length === points && x.every((v, i) => i === 0 || v - x[i - 1]! === stepSec)) return last!;
      await page.waitForTimeout(250);
    }
    assert.fail(`chart ${metric}: expected ${points} points ${stepSec} s apart, got ${JSON.stringify(last?.data[0]?.slice(0, 4))}…`);
  };
  /** Chooses a range; returns the spans (to - from) the page asked for until one covered the whole range. */
  const choose = async (label: string, rangeMs: number) => {
    const requested = metricsRequests.length;
    await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: label, exact: true }).click();
    await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: label, exact: true, pressed: true }).waitFor();
    const spans = () => metricsRequests.slice(requested).map((u) => Number(u.searchParams.get('to')) - Number(u.searchParams.get('from')));
    const deadline = Date.now() + 10_000;
    while (!spans().includes(rangeMs) && Date.now() < deadline) await page.waitForTimeout(100);
    assert.ok(spans().includes(rangeMs), `choosing ${label} asked for ${rangeMs} ms: ${spans().join(', ')}`);
  };

  it('starts a task from earliest over a backlog', async () => {
    const created = await client(rt)('POST', '/v1/tasks', {
      name: `crange-${run}`,
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      filter: { topics: { include: [topic], exclude: [] } },
      startOffset: { type: 'earliest' },
      tpsLimit: TPS,
    });
    assert.equal(created.status, 201, created.text);
    taskId = created.body.id;
    await waitForStatus(client(rt), taskId, 'running');
    await page.goto(`${rt.baseUrl}/`);
    await page.getByLabel('API token').fill(rt.adminToken);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator(`tr[data-task-id="${taskId}"]`).getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Monitoring' }).waitFor();
  });

  it('shows catch-up progress with an estimate while the backlog drains', async (t) => {
    const row = page.locator('table.catch-up tr[data-flow="forward"]');
    await page
      .locator('table.catch-up tr[data-flow="forward"][data-state="catching-up"]:not([data-eta-sec=""])')
      .waitFor({ timeout: 60_000 });
    const num = async (attr: string) => Number(await row.getAttribute(`data-${attr}`));
    const [backlog, left, percent, rate, eta] = [
      await num('backlog'),
      await num('left'),
      await num('percent'),
      await num('rate'),
      await num('eta-sec'),
    ];
    t.diagnostic(`left ${left} of ${backlog}, ${percent.toFixed(1)} % done, ${rate.toFixed(1)} msg/s, eta ${eta} s`);
    // The backlog is exactly what the start offsets left to copy: the queue ends minus the earliest offsets.
    assert.equal(backlog, BACKLOG);
    assert.ok(left > 0 && left < backlog, `${left} left of ${backlog}`);
    assert.ok(Math.abs(percent - ((backlog - left) / backlog) * 100) < 1e-6);
    assert.ok(rate > 0 && rate <= TPS * 1.5, `drain rate ${rate} msg/s under a ${TPS} TPS limit`);
    assert.ok(Math.abs(eta * rate - left) <= rate, 'estimate = left / drain rate');
    // The API gives the same figures the page shows them from.
    const details = (await client(rt)('GET', `/v1/tasks/${taskId}`)).body as { catchUp: { flow: string; backlog: number }[] };
    assert.deepEqual(
      details.catchUp.map((c) => [c.flow, c.backlog]),
      [['forward', BACKLOG]],
    );
    assert.match(await row.locator('td[data-field="eta"]').innerText(), /^about \d+ (s|min)/);
    assert.match(await row.locator('td[data-field="percent"]').innerText(), /^\s*\d+(\.\d)? %$/);
    await screenshot(t, 'console-catch-up');
  });

  it('asks for the chosen range and redraws the charts with its steps', async () => {
    await chartSteps('replicated', 61, 60); // the default hour, per minute
    await choose('15 min', 15 * MINUTE);
    await chartSteps('replicated', 16, 60);
    await choose('6 h', 6 * 60 * MINUTE);
    await chartSteps('lag', 73, 300);
    assert.match(await page.locator('section[aria-labelledby="monitoring"] > p.muted').innerText(), /Per 5 minutes over the last 6 h/);
    await choose('7 d', 7 * 24 * 60 * MINUTE);
    const week = await chartSteps('replicated', 7 * 24 + 1, 3600);
    // Refreshes of the same range ask only for its newest minutes.
    const requested = metricsRequests.length;
    const until = Date.now() + 15_000;
    while (metricsRequests.length === requested && Date.now() < until) await page.waitForTimeout(200);
    const tail = metricsRequests.at(-1)!;
    assert.ok(metricsRequests.length > requested, 'the page refreshed');
    const span = Number(tail.searchParams.get('to')) - Number(tail.searchParams.get('from'));
    assert.ok(span <= 3 * MINUTE, `a refresh asked for ${span} ms`);
    // The same messages, in hourly steps: everything replicated so far sits in one or two steps.
    const replicated = (c: ChartData) => (c.data[1] as (number | null)[]).reduce<number>((s, v) => s + (v ?? 0), 0);
    assert.ok(replicated(week) > 0);
    assert.ok((week.data[1] as number[]).filter((v) => v > 0).length <= 2);
    await choose('1 h', 60 * MINUTE);
    await chartSteps('replicated', 61, 60);
  });

  it('says caught up once the backlog is replicated', async (t) => {
    const row = page.locator('table.catch-up tr[data-flow="forward"]');
    await page.locator('table.catch-up tr[data-flow="forward"][data-state="caught-up"]').waitFor({ timeout: 200_000 });
    assert.equal(await row.locator('td[data-field="eta"]').innerText(), 'caught up');
    assert.equal(Number(await row.getAttribute('data-percent')), 100);
    assert.equal(Number(await row.getAttribute('data-left')), 0);
    // Caught up means the checkpoints passed every message of the backlog: the target holds them all.
    // (A checkpoint is written only after the target confirmed the sends before it.)
    let onTarget = 0;
    for (let q = 0; q < 2; q++) onTarget += await b.broker.maxOffset(b.addr, topic, q);
    t.diagnostic(`on the target when caught up: ${onTarget} of ${BACKLOG}`);
    assert.equal(onTarget, BACKLOG);
    await screenshot(t, 'console-caught-up');
    assert.deepEqual(pageErrors, []);
  });
});
