// Task health on REAL clusters: a task from a test-bed cluster to a dedicated one (started here, so
// its broker can be killed without touching the shared test bed) goes degraded when that broker
// dies — the reason naming the cluster — and ok once it is back, as the API, the `ferry` CLI,
// Prometheus and the console (Debian's chromium, playwright-core) all show. A task that failed to
// start shows its reason written out on its console page, and is stalled with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../console/build.ts';
import { parseExposition, one } from '../support/prometheus-text.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';
import { RocketMQCluster } from '../testbed/cluster.ts';
import { freePortBlock } from '../testbed/ports.ts';

const root = join(import.meta.dirname, '..', '..');
const SCREENSHOTS = join(root, 'test-artifacts', 'screenshots');
const BIN = join(root, 'bin', 'ferry.mjs');
/** The test's unreachable window (the product's is 30 s): FERRY_HEALTH_UNREACHABLE_MS. */
const UNREACHABLE_MS = 3000;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
];

interface Health {
  state: string;
  reason: string | null;
  since: string | null;
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 300));
    v = await fn();
  }
  return v;
}

describe('task health on real clusters', { timeout: 420_000 }, () => {
  let dedicated: RocketMQCluster;
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let a: Side;
  let t: Side;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const run = Date.now().toString(36);
  const topic = `health_${run}`;

  before(async () => {
    // Its own small cluster: the one whose broker this test kills.
    [dedicated] = await Promise.all([RocketMQCluster.start({ version: '4.9.7', name: `health-${process.pid}` }), buildConsole()]);
    a = side(await testCluster('v5'));
    t = side(dedicated.info);
    await a.admin.createOrUpdateTopicInCluster(a.c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    await t.admin.createOrUpdateTopicInCluster(dedicated.info.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    rt = await startRuntime({
      store: 'embedded',
      env: {
        FERRY_RECONCILE_INTERVAL_MS: '500',
        FERRY_HEALTH_UNREACHABLE_MS: String(UNREACHABLE_MS),
        FERRY_REPLICATOR_BUDGET_MS: '15000',
        FERRY_LEASE_TTL_MS: '4000',
        LOG_LEVEL: 'info',
      },
    });
    api = client(rt);
    profile = mkdtempSync(join(tmpdir(), 'ferry-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    mkdirSync(SCREENSHOTS, { recursive: true });
    // Signed in once; the token stays in this tab's sessionStorage for the pages below.
    await page.goto(`${rt.baseUrl}/`);
    await page.getByLabel('API token').fill(rt.adminToken);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Replication tasks' }).waitFor();
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await rt?.stop();
    a?.remoting.close();
    t?.remoting.close();
    await dedicated?.stop();
  });

  const health = async (id: string): Promise<Health & { status: string; version: number }> => {
    const body = (await api('GET', `/v1/tasks/${id}`)).body;
    return { ...body.health, status: body.status, version: body.version };
  };
  const ferry = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, FERRY_URL: rt.baseUrl, FERRY_TOKEN: rt.adminToken },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  const scrape = async () => {
    const res = await fetch(`${rt.baseUrl}/metrics`, { headers: { authorization: `Bearer ${rt.adminToken}` } });
    assert.equal(res.status, 200);
    return parseExposition(await res.text()).samples;
  };
  const screenshot = async (tc: TestContext, name: string) => {
    const path = join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    tc.diagnostic(`screenshot: ${path}`);
  };

  it('goes degraded when its target cluster stops (the reason naming it) and ok when it is back', async (tc) => {
    const name = dedicated.info.name;
    const created = await api('POST', '/v1/tasks', {
      name: `health-${run}`,
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(dedicated.info),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    await waitForStatus(api, id, 'running');
    const healthy = await until(
      'the first health evaluation',
      () => health(id),
      (h) => h.since !== null,
    );
    assert.equal(healthy.state, 'ok', JSON.stringify(healthy));
    assert.equal(healthy.reason, null);

    // It really replicates before the outage.
    const sent = (await a.broker.sendBatch(a.addr, topic, 0, [{ body: Buffer.from('before') }, { body: Buffer.from('outage') }])).msgIds;
    const arrived = (await readUntilQuiet(t, topic, 2, { expect: 2, quietMs: 1500, timeoutMs: 60_000 })).flat();
    assert.deepEqual(arrived.map((m) => m.uniqKey).sort(), [...sent].sort());

    const before = await health(id);
    await dedicated.killBroker(0);
    const killedAt = Date.now();
    const degraded = await until(
      'degraded',
      () => health(id),
      (h) => h.state === 'degraded',
      90_000,
    );
    tc.diagnostic(`degraded after ${Date.now() - killedAt} ms: ${degraded.reason}`);
    assert.match(degraded.reason!, new RegExp(`target cluster ${name}\\b`), 'the reason names the unreachable cluster');
    assert.match(degraded.reason!, /unreachable|no broker registered/);
    assert.match(degraded.reason!, /for more than 3 s/);
    assert.ok(Date.parse(degraded.since!) >= killedAt + UNREACHABLE_MS - 1000, `not before the window: since ${degraded.since}`);
    assert.equal(degraded.status, 'running', 'health is not the status');
    assert.equal(degraded.version, before.version, 'an observed change does not bump the version');

    // The CLI: `tasks get` and `tasks list`.
    const got = await ferry(['tasks', 'get', id]);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^Health:\s+degraded since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    assert.match(got.stdout, new RegExp(`^Health reason:\\s+.*target cluster ${name}\\b`, 'm'));
    const listed = await ferry(['tasks', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    const row = rows.find((l) => l.startsWith(id))!;
    assert.equal(row.indexOf('degraded'), header!.indexOf('HEALTH'), listed.stdout);
    assert.ok(row.includes(`target cluster ${name}`), 'REASON says why');

    // Prometheus.
    const samples = await scrape();
    assert.equal(one(samples, 'ferry_task_health', { task_id: id, state: 'degraded' }), 1);
    assert.equal(one(samples, 'ferry_task_health', { task_id: id, state: 'ok' }), 0);
    assert.equal(one(samples, 'ferry_task_health', { task_id: id, state: 'stalled' }), 0);

    // The console: a badge in the list (reason on hover), the reason written out on the task page.
    await page.goto(`${rt.baseUrl}/`);
    const listBadge = page.locator(`tr[data-task-id="${id}"] .health[data-health="degraded"]`);
    await listBadge.waitFor();
    await listBadge.locator('.badge').hover();
    assert.match(await listBadge.getByRole('tooltip').innerText(), new RegExp(`target cluster ${name}\\b`));
    await page.goto(`${rt.baseUrl}/tasks/${id}`);
    const pageBadge = page.locator('section[aria-labelledby="basic-info"] .health[data-health="degraded"]');
    await pageBadge.waitFor();
    const reason = pageBadge.locator('.health-reason');
    assert.ok(await reason.isVisible(), 'the reason is on the page, not only on hover');
    assert.match(await reason.innerText(), new RegExp(`target cluster ${name}\\b`));
    await screenshot(tc, 'console-task-degraded');

    await dedicated.restartBroker(0);
    const backAt = Date.now();
    const ok = await until(
      'ok again',
      () => health(id),
      (h) => h.state === 'ok',
      90_000,
    );
    tc.diagnostic(`ok ${Date.now() - backAt} ms after the broker was back`);
    assert.equal(ok.reason, null);
    assert.ok(Date.parse(ok.since!) >= Date.parse(degraded.since!));
    await page.locator('section[aria-labelledby="basic-info"] .health[data-health="ok"]').waitFor();
    assert.equal(await page.locator('.health-reason').count(), 0, 'no reason when ok');
    assert.equal(one(await scrape(), 'ferry_task_health', { task_id: id, state: 'ok' }), 1);

    // And it replicates again.
    const later = (await a.broker.sendBatch(a.addr, topic, 1, [{ body: Buffer.from('after') }])).msgIds;
    const all = (await readUntilQuiet(t, topic, 2, { expect: 3, quietMs: 1500, timeoutMs: 90_000 })).flat();
    assert.deepEqual(all.map((m) => m.uniqKey).sort(), [...sent, ...later].sort());
    assert.equal((await api('POST', `/v1/tasks/${id}/stop`)).status, 202);
  });

  it('a task that failed to start: its reason on the task page (not only on hover), stalled with it', async (tc) => {
    const dead = `127.0.0.1:${await freePortBlock(1)}`;
    const created = await api('POST', '/v1/tasks', {
      name: `health-dead-${run}`,
      direction: 'one-way',
      source: { ...endpointOf(a.c), nameServer: dead },
      target: endpointOf(dedicated.info),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    const failed = await waitForStatus(api, id, 'start_failed');
    assert.ok(failed.statusReason.includes(dead), failed.statusReason);
    assert.deepEqual(failed.health, {
      state: 'stalled',
      reason: `the task did not start: ${failed.statusReason}`,
      since: failed.updatedAt,
    });

    await page.goto(`${rt.baseUrl}/tasks/${id}`);
    const info = page.locator('section[aria-labelledby="basic-info"]');
    const statusReason = info.locator('.status-reason');
    await statusReason.waitFor();
    assert.ok(await statusReason.isVisible());
    assert.equal(await statusReason.innerText(), failed.statusReason);
    assert.match(await info.locator('.health[data-health="stalled"] .health-reason').innerText(), new RegExp(dead.replace(/\./g, '\\.')));
    await screenshot(tc, 'console-task-start-failed');
    assert.equal((await api('DELETE', `/v1/tasks/${id}`)).status, 204);
  });
});
