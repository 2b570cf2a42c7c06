// The task page's failover action in a real browser (Debian's chromium driven by playwright-core)
// against the local runtime and two real test-bed clusters: the confirmation can be cancelled (nothing
// happens), then an unplanned failover with reverse is confirmed and its progress shows up to done,
// with a link to the failback task the API reports.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole } from '../../console/build.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-sync',
];

describe('console failover action', { timeout: 240_000 }, () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const pageErrors: string[] = [];
  const run = Date.now().toString(36);
  const topic = `consolefo_${run}`;

  before(async () => {
    await buildConsole();
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    rt = await startRuntime({ store: 'embedded', env: { FERRY_RECONCILE_INTERVAL_MS: '500', LOG_LEVEL: 'info' } });
    profile = mkdtempSync(join(tmpdir(), 'ferry-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
  });

  it('asks first, then fails over and shows the progress up to done with the failback task', async () => {
    const api = client(rt);
    const created = await api('POST', '/v1/tasks', {
      name: `console-failover-${run}`,
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    await waitForStatus(api, id, 'running');

    await page.goto(`${rt.baseUrl}/`);
    await page.getByLabel('API token').fill(rt.adminToken);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Replication tasks' }).waitFor();
    await page.goto(`${rt.baseUrl}/tasks/${id}`);
    const card = page.locator('section[aria-labelledby="failover"]');
    await card.getByText('This task has not failed over.').waitFor();

    // Cancel: nothing is asked of the API.
    await card.locator('button[data-action="failover"]:not([disabled])').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.equal(await dialog.locator('input[name="failover-mode"][value="planned"]').isChecked(), true, 'planned first on a running task');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await api('GET', `/v1/tasks/${id}`)).body.failover, null);

    await card.locator('button[data-action="failover"]').click();
    await dialog.locator('input[name="failover-mode"][value="unplanned"]').check();
    await dialog.locator('input[name="reverse"]').check();
    await dialog.locator('button[data-action="confirm-failover"]').click();
    await card.locator('dl.failover[data-failover-state="done"]').waitFor({ timeout: 90_000 });
    const f = (await api('GET', `/v1/tasks/${id}`)).body.failover;
    assert.deepEqual([f.mode, f.state, f.reverse], ['unplanned', 'done', true]);
    assert.ok(f.reverseTaskId);
    await card.locator(`a[href="/tasks/${f.reverseTaskId}"]`).waitFor();
    // One failover at a time is over: the action is offered again (unplanned on the stopped task).
    assert.equal(await card.locator('button[data-action="failover"]').isEnabled(), true);
    assert.deepEqual(pageErrors, []);
  });
});
