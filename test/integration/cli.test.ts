// The `ferry` CLI as users run it — bin/ferry.mjs in a child process — against the local runtime
// and two real test-bed clusters: every command, its human and --json output, and its exit codes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePortBlock } from '../testbed/ports.ts';
import type { OutgoingMessage } from '../../shared/rocketmq/message.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'ferry.mjs');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('ferry CLI over the local runtime', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let a: Side;
  let b: Side;
  let dir: string;
  const run = Date.now();
  const topic = `cli_${run}`;
  const name = `cli-${run}`;

  /** Runs bin/ferry.mjs; FERRY_URL and FERRY_TOKEN point at the runtime unless `env` says otherwise. */
  const ferry = (args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Ran> =>
    new Promise((resolve, reject) => {
      const env: Record<string, string | undefined> = { ...process.env, FERRY_URL: rt.baseUrl, FERRY_TOKEN: rt.adminToken, ...opts.env };
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
      const child = spawn(process.execPath, [BIN, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(opts.input ?? '');
    });

  const taskFile = async (file: string, body: Record<string, unknown>) => {
    const path = join(dir, file);
    await writeFile(path, JSON.stringify(body, null, 2));
    return path;
  };

  const taskBody = (over: Record<string, unknown> = {}) => ({
    name,
    direction: 'one-way',
    source: endpointOf(a.c),
    target: endpointOf(b.c),
    startOffset: { type: 'latest' },
    filter: { topics: { include: [topic], exclude: [] } },
    ...over,
  });

  const secret = () => b.c.acl!.secretKey;

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '10000', LOG_LEVEL: 'info' },
    });
    api = client(rt);
    dir = await mkdtemp(join(tmpdir(), 'ferry-cli-'));
  });
  after(async () => {
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let id = '';

  it('tasks create -f --wait: validates, creates, prints progress to stderr until running', async () => {
    const r = await ferry(['tasks', 'create', '-f', await taskFile('task.json', taskBody()), '--wait', '--timeout', '90']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /waiting for task-\S+ to reach running \(timeout 90\.0s\)/);
    assert.match(r.stderr, /\d+\.\ds\s+initializing\n[\s\S]*\d+\.\ds\s+running\n/, 'status transitions with elapsed time');
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+NAME\s+STATUS\s+DIRECTION\s+SOURCE\s+TARGET\s+UPDATED\s+HEALTH\s+REASON$/);
    assert.match(lines[1]!, new RegExp(`^task-\\S+\\s+${name}\\s+running\\s+one-way\\s+${a.c.name}\\s+${b.c.name}\\s`));
    id = lines[1]!.split(/\s+/)[0]!;
    assert.equal((await api('GET', `/v1/tasks/${id}`)).body.status, 'running');
    assert.ok(!r.stdout.includes(secret()) && !r.stderr.includes(secret()), 'the secret key is never printed');
  });

  it('tasks list: an aligned table with the task, --json parses, --status/--name filter', async () => {
    const [human, json, running, stopped, byName] = await Promise.all([
      ferry(['tasks', 'list']),
      ferry(['tasks', 'list', '--json']),
      ferry(['--json', 'tasks', 'list', '--status', 'running']),
      ferry(['tasks', 'list', '--status', 'stopped', '--json']),
      ferry(['tasks', 'list', '--name', `cli-${run}`, '--json']),
    ]);
    for (const r of [human, json, running, stopped, byName]) assert.equal(r.code, 0, r.stderr);
    const rows = human.stdout.trimEnd().split('\n');
    const header = rows[0]!;
    const row = rows.find((l) => l.startsWith(id))!;
    assert.ok(row.includes(name) && row.includes('running'), human.stdout);
    assert.equal(row.indexOf(name), header.indexOf('NAME'), 'columns line up under their headers');
    assert.equal(row.indexOf('running'), header.indexOf('STATUS'));
    const items = JSON.parse(json.stdout) as { id: string; name: string; source: { acl: { accessKey: string; secretKeySet?: boolean } } }[];
    assert.ok(Array.isArray(items));
    assert.deepEqual(
      items.map((t) => t.name),
      [name],
    );
    assert.deepEqual(
      (JSON.parse(running.stdout) as { id: string }[]).map((t) => t.id),
      [id],
    );
    assert.deepEqual(JSON.parse(stopped.stdout), []);
    assert.deepEqual(
      (JSON.parse(byName.stdout) as { id: string }[]).map((t) => t.id),
      [id],
    );
    assert.ok(!json.stdout.includes(secret()));
  });

  it('tasks get: configuration and status for people, the API object with --json', async () => {
    const [human, json] = await Promise.all([ferry(['tasks', 'get', id]), ferry(['tasks', 'get', id, '--json'])]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^ID:\\s+${id}$`, 'm'));
    assert.match(human.stdout, /^Status:\s+running$/m);
    assert.match(human.stdout, new RegExp(`^Source:\\s+self-built ${a.c.name} ${a.c.nameServer} \\(remoting, public, ACL off\\)$`, 'm'));
    assert.match(
      human.stdout,
      new RegExp(`^Target:\\s+self-built ${b.c.name} ${b.c.nameServer} \\(remoting, public, ACL \\S+\\*\\*\\*\\*\\)$`, 'm'),
    );
    assert.match(human.stdout, new RegExp(`^Topics:\\s+include ${topic}; exclude none$`, 'm'));
    const t = JSON.parse(json.stdout);
    assert.equal(t.id, id);
    assert.equal(t.target.acl.secretKeySet, true);
    for (const out of [human.stdout, json.stdout]) assert.ok(!out.includes(secret()), 'the secret key is never printed');
  });

  it('tasks stop; metrics: the latest minute and totals per flow, --json the API series', async () => {
    const batch: OutgoingMessage[] = Array.from({ length: 20 }, (_, i) => ({ body: Buffer.from(`cli-${i}`) }));
    await a.broker.sendBatch(a.addr, topic, 0, batch);
    type Series = { from: number; points: { flow: string; minuteMs: number; [k: string]: number | string | null }[] };
    const series = async () => (await api('GET', `/v1/tasks/${id}/metrics?from=${run - 60_000}`)).body as Series;
    const replicated = (m: Series) => m.points.reduce((s, p) => s + Number(p.replicated), 0);
    // Wait (through the API, cheaply) until the replicator has flushed the 20 into the minute buckets.
    const deadline = Date.now() + 60_000;
    while (replicated(await series()) < 20) {
      assert.ok(Date.now() < deadline, 'metrics did not show 20 replicated');
      await new Promise((r) => setTimeout(r, 500));
    }

    const stop = await ferry(['tasks', 'stop', id]);
    assert.equal(stop.code, 0, stop.stderr);
    // `stopping` while the replicator still holds its lease; then `stopped`.
    assert.match(stop.stdout.split('\n')[1]!, new RegExp(`^${id}\\s+${name}\\s+(stopping|stopped)\\s`));
    await waitForStatus(api, id, 'stopped');

    // Compare the table with the API's series as it was just before and just after the CLI ran
    // (a stopped replicator may still flush once as it exits; then the two differ and we look again).
    const from = new Date(run - 60_000).toISOString();
    let human: Ran | undefined;
    let m: Series | undefined;
    const seen: string[] = [];
    for (let attempt = 0; attempt < 10 && !m; attempt++) {
      const before = await series();
      human = await ferry(['metrics', id, '--from', from]);
      const after = await series();
      if (JSON.stringify(before.points) === JSON.stringify(after.points)) m = after;
      else {
        seen.push(JSON.stringify(before.points), JSON.stringify(after.points));
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    assert.ok(
      m && human,
      `the series kept changing after stop:\n${seen.join('\n')}\n${rt
        .output()
        .split('\n')
        .filter((l) => l.includes(id))
        .slice(-20)
        .join('\n')}`,
    );
    assert.equal(human.code, 0, human.stderr);
    const forward = m.points.filter((p) => p.flow === 'forward').sort((x, y) => x.minuteMs - y.minuteMs);
    assert.equal(replicated(m), 20);
    // The table shows the newest minute and the sums of the series, column by column.
    const newest = forward[forward.length - 1]!;
    const sum = (k: string) => forward.reduce((s, p) => s + Number(p[k]), 0);
    assert.match(
      human.stdout,
      /Latest minute per flow:\nFLOW\s+MINUTE\s+CONSUMED\s+REPLICATED\s+FAILED\s+THROTTLED\s+LAG\s+DELAY P99\s+DELAY MAX\n/,
    );
    assert.match(
      human.stdout,
      new RegExp(
        `\\nforward\\s+${new Date(newest.minuteMs).toISOString().slice(0, 19)}Z\\s+${newest.consumed}\\s+${newest.replicated}\\s+` +
          `${newest.failed}\\s+${newest.throttled}\\s`,
      ),
    );
    assert.match(
      human.stdout,
      /Totals over the range:\nFLOW\s+MINUTES\s+CONSUMED\s+REPLICATED\s+FILTERED\s+LOOP-SKIPPED\s+FAILED\s+THROTTLED\n/,
    );
    const totals = ['consumed', 'replicated', 'filtered', 'loopSkipped', 'failed', 'throttled'].map(sum).join('\\s+');
    assert.match(human.stdout, new RegExp(`\\nforward\\s+${forward.length}\\s+${totals}\\n`));

    const json = await ferry(['metrics', id, '--json', '--from', from, '--to', String(Date.now() + 60_000)]);
    assert.equal(json.code, 0, json.stderr);
    const raw = JSON.parse(json.stdout) as Series;
    assert.equal(raw.from, Date.parse(from));
    assert.equal(replicated(raw), 20);
  });

  it('tasks rename, reset-offset --time (ISO-8601 and epoch ms), start --wait', async () => {
    const renamed = `${name}-重命名`;
    const ren = await ferry(['tasks', 'rename', id, renamed]);
    assert.equal(ren.code, 0, ren.stderr);
    const [header, row] = ren.stdout.split('\n');
    assert.ok(row!.includes(renamed));
    // A wide (Chinese) name still keeps the next column aligned: the status starts under STATUS in terminal columns.
    const before = row!.slice(0, row!.indexOf('stopped'));
    assert.equal(before.length + [...renamed].filter((c) => /\p{Script=Han}/u.test(c)).length, header!.indexOf('STATUS'));
    assert.equal((await api('GET', `/v1/tasks/${id}`)).body.name, renamed);

    const at = new Date(run - 1000).toISOString();
    const reset = await ferry(['tasks', 'reset-offset', id, '--time', at]);
    assert.equal(reset.code, 0, reset.stderr);
    const afterReset = JSON.parse((await ferry(['tasks', 'get', id, '--json'])).stdout);
    assert.equal(afterReset.pendingReset.timestamp, Date.parse(at));
    const epoch = await ferry(['tasks', 'reset-offset', id, '--time', String(run), '--json']);
    assert.equal(epoch.code, 0, epoch.stderr);
    assert.equal(JSON.parse(epoch.stdout).pendingReset.timestamp, run);

    const start = await ferry(['tasks', 'start', id, '--wait']);
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stderr, /initializing[\s\S]*running/);
    assert.match(start.stdout.split('\n')[1]!, /\srunning\s/);
  });

  it('refuses what the API refuses: delete, rename or start while running → exit 1 with the code', async () => {
    const [del, ren, start] = await Promise.all([
      ferry(['tasks', 'delete', id, '--yes']),
      ferry(['tasks', 'rename', id, 'x']),
      ferry(['tasks', 'start', id]),
    ]);
    for (const r of [del, ren]) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^ferry: TASK_RUNNING: .+\n$/);
    }
    assert.equal(start.code, 1);
    assert.match(start.stderr, /^ferry: INVALID_STATE: .+ \(field: status\)\n$/);
  });

  it('tasks stop --json, then delete', async () => {
    const stop = await ferry(['tasks', 'stop', id, '--json']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(['stopping', 'stopped'].includes(JSON.parse(stop.stdout).status), stop.stdout);
    await waitForStatus(api, id, 'stopped');
    const del = await ferry(['tasks', 'delete', id, '--yes']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.stdout, `Deleted ${id}.\n`);
    assert.equal((await api('GET', `/v1/tasks/${id}`)).status, 404);
  });

  it('create --no-start from stdin; delete --json', async () => {
    const r = await ferry(['tasks', 'create', '-f', '-', '--no-start', '--json'], {
      input: JSON.stringify(taskBody({ name: `${name}-stdin` })),
    });
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.status, 'stopped');
    assert.equal(t.desiredState, 'stopped');
    const del = await ferry(['tasks', 'delete', t.id, '--yes', '--json']);
    assert.deepEqual(JSON.parse(del.stdout), { id: t.id, deleted: true });
  });

  it("an invalid task file fails locally with the API's code, message and field (exit 1), and nothing is created", async () => {
    const cases: [Record<string, unknown>, string | undefined][] = [
      [taskBody({ source: { ...endpointOf(a.c), nameServer: '127.0.0.1:99999' } }), 'source.nameServer'],
      [taskBody({ name: 'has space' }), 'name'],
      [taskBody({ target: { ...endpointOf(b.c), acl: { enabled: true, accessKey: 'ak' } } }), 'target.acl.secretKey'],
      [taskBody({ filter: { topics: { include: ['('], exclude: [] } } }), 'filter.topics.include.0'],
      [{ ...taskBody(), tpsLimit: 0 }, 'tpsLimit'],
      [{ ...taskBody(), colour: 'blue' }, undefined], // unknown top-level field: the API names it in the message
    ];
    const runs = await Promise.all(
      cases.map(async ([body, field], i) => ({
        body,
        field,
        r: await ferry(['tasks', 'create', '-f', await taskFile(`bad-${i}.json`, body)]),
      })),
    );
    for (const { body, field, r } of runs) {
      // The same body straight to the API, for the reference wording (it refuses it too, so nothing is created).
      const ref = (await api('POST', '/v1/tasks', body)).body.error as { code: string; message: string; field?: string };
      assert.equal(ref.code, 'VALIDATION_FAILED');
      assert.equal(ref.field, field, ref.message);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, `ferry: VALIDATION_FAILED: ${ref.message}${ref.field ? ` (field: ${ref.field})` : ''}\n`);
      assert.equal(r.stdout, '');
    }
    const notJson = await ferry([
      'tasks',
      'create',
      '-f',
      await taskFile('broken.json', {}).then(async (p) => {
        await writeFile(p, '{"name": ');
        return p;
      }),
    ]);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /^ferry: VALIDATION_FAILED: .*broken\.json is not valid JSON: .+ \(field: body\)\n$/);
    const missing = await ferry(['tasks', 'create', '-f', join(dir, 'nope.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^ferry: cannot read .*nope\.json: ENOENT\n$/);
    assert.deepEqual(
      (await api('GET', '/v1/tasks?name=cli-')).body.items.filter((t: { name: string }) => t.name !== name),
      [],
    );
  });

  it('apply -f: creates by name, then unchanged, updated, or "stop it first" while running', async () => {
    const applied = `${name}-apply`;
    const file = await taskFile('apply.json', taskBody({ name: applied, start: false }));
    const created = await ferry(['apply', '-f', file]);
    assert.equal(created.code, 0, created.stderr);
    const [summary, header] = created.stdout.split('\n');
    assert.match(summary!, new RegExp(`^created (task-\\S+) \\(${applied}\\)$`));
    assert.match(header!, /^ID\s+NAME\s+STATUS/);
    const applyId = summary!.split(' ')[1]!;
    assert.equal((await api('GET', `/v1/tasks/${applyId}`)).body.status, 'stopped');

    // The same file again (its target's secret key included): nothing to change, nothing written.
    const again = await ferry(['apply', '-f', file, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const unchanged = JSON.parse(again.stdout);
    assert.deepEqual([unchanged.action, unchanged.task.id, unchanged.task.version], ['unchanged', applyId, 1]);

    await taskFile('apply.json', taskBody({ name: applied, start: false, tpsLimit: 50, filter: { topics: { include: [topic, 'x'] } } }));
    const updated = await ferry(['apply', '-f', file]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout.split('\n')[0], `updated ${applyId} (${applied}): filter.topics.include, tpsLimit`);
    assert.equal((await api('GET', `/v1/tasks/${applyId}`)).body.tpsLimit, 50);

    assert.equal((await api('POST', `/v1/tasks/${applyId}/start`)).status, 202);
    const whileRunning = await ferry(['apply', '-f', file]);
    assert.equal(whileRunning.code, 0, whileRunning.stderr);
    assert.match(whileRunning.stdout, new RegExp(`^unchanged ${applyId} \\(${applied}\\)\\n`));
    await taskFile('apply.json', taskBody({ name: applied, tpsLimit: 60 }));
    const refused = await ferry(['apply', '-f', file]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `^ferry: TASK_RUNNING: task ${applied} \\(${applyId}\\) is (initializing|running): ` +
          `.*stop it first \\(ferry tasks stop ${applyId}\\)`,
      ),
    );
    assert.equal(refused.stdout, '');
    assert.equal((await api('GET', `/v1/tasks/${applyId}`)).body.tpsLimit, 50, 'nothing was changed');
    await api('POST', `/v1/tasks/${applyId}/stop`);
    assert.equal((await api('DELETE', `/v1/tasks/${applyId}`)).status, 204);
  });

  it('unknown id → NOT_FOUND (exit 1) for every task command', async () => {
    const ghost = 'task-does-not-exist';
    const runs = await Promise.all([
      ferry(['tasks', 'get', ghost]),
      ferry(['tasks', 'start', ghost]),
      ferry(['tasks', 'stop', ghost]),
      ferry(['tasks', 'rename', ghost, 'x']),
      ferry(['tasks', 'reset-offset', ghost, '--time', String(run)]),
      ferry(['tasks', 'delete', ghost, '--yes']),
      ferry(['tasks', 'offsets', ghost]),
      ferry(['metrics', ghost]),
    ]);
    for (const r of runs) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^ferry: NOT_FOUND: .+\n$/);
      assert.equal(r.stdout, '');
    }
  });

  it('authentication: wrong or missing token → exit 4; a reader may not write → FORBIDDEN, exit 1', async () => {
    const [wrong, none, reader, readerList] = await Promise.all([
      ferry(['tasks', 'list'], { env: { FERRY_TOKEN: 'not-a-token' } }),
      ferry(['tasks', 'list'], { env: { FERRY_TOKEN: undefined } }),
      ferry(['--token', rt.readerToken, 'tasks', 'stop', 'task-x']),
      ferry(['tasks', 'list', '--token', rt.readerToken, '--json']),
    ]);
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /^ferry: UNAUTHENTICATED: .+\n$/);
    assert.ok(!wrong.stderr.includes('not-a-token'), 'the token is not echoed');
    assert.equal(none.code, 4);
    assert.match(none.stderr, /^ferry: UNAUTHENTICATED: .+ — no token given: pass --token or set FERRY_TOKEN\n$/);
    assert.equal(reader.code, 1);
    assert.match(reader.stderr, /^ferry: FORBIDDEN: /);
    assert.equal(readerList.code, 0, readerList.stderr);
    assert.ok(Array.isArray(JSON.parse(readerList.stdout)));
  });

  it('an unreachable URL → exit 3 naming the URL', async () => {
    const url = `http://127.0.0.1:${await freePortBlock(1)}`;
    const [flag, env] = await Promise.all([
      ferry(['--url', url, 'tasks', 'list']),
      ferry(['metrics', 'task-x'], { env: { FERRY_URL: url } }),
    ]);
    for (const r of [flag, env]) {
      assert.equal(r.code, 3, r.stderr);
      assert.equal(
        r.stderr,
        `ferry: cannot reach the Ferry API at ${url} (ECONNREFUSED); is Ferry running there? (set --url or FERRY_URL)\n`,
      );
    }
  });

  it('bad usage → exit 2 before any request', async () => {
    // --url points nowhere: a usage error must be caught before the CLI tries to connect (which would be exit 3).
    const nowhere = { FERRY_URL: `http://127.0.0.1:${await freePortBlock(1)}` };
    const file = await taskFile('usage.json', taskBody({ name: `${name}-usage` }));
    const cases: [string[], RegExp][] = [
      [[], /Usage: ferry/],
      [['tasks', 'frob'], /^ferry: unknown command 'frob'/],
      [['tasks', 'list', '--bogus'], /^ferry: unknown option '--bogus'/],
      [['tasks', 'get'], /^ferry: missing required argument 'id'/],
      [['tasks', 'create'], /^ferry: required option '-f, --file <path>' not specified/],
      [['tasks', 'create', '-f', file, '--no-start', '--wait'], /^ferry: --wait cannot be used with --no-start/],
      [['tasks', 'reset-offset', 'task-x'], /^ferry: required option '--time <time>' not specified/],
      [
        ['tasks', 'reset-offset', 'task-x', '--time', 'yesterday'],
        /^ferry: option '--time <time>' argument 'yesterday' is invalid\. expected ISO-8601/,
      ],
      [['tasks', 'start', 'task-x', '--wait', '--timeout', '-1'], /argument '-1' is invalid|unknown option '-1'/],
      [['metrics', 'task-x', '--from', '2025-13-45'], /^ferry: option '--from <time>' argument '2025-13-45' is invalid/],
      [['--url', 'ftp://x', 'tasks', 'list'], /^ferry: option '--url <url>' argument 'ftp:\/\/x' is invalid/],
    ];
    const runs = await Promise.all(cases.map(([args]) => ferry(args, { env: nowhere })));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]![0].join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, cases[i]![1]);
    });
    const help = await ferry(['tasks', 'create', '--help'], { env: nowhere });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes:[\s\S]*3 {2}the API could not be reached[\s\S]*4 {2}unauthenticated/);
  });

  it('--wait on a task that cannot start: start_failed with the reason (exit 1); --timeout while still initializing (exit 1)', async () => {
    const dead = `127.0.0.1:${await freePortBlock(1)}`;
    const failed = await ferry([
      'tasks',
      'create',
      '-f',
      await taskFile('dead.json', taskBody({ name: `${name}-dead`, source: { ...endpointOf(a.c), nameServer: dead } })),
      '--wait',
    ]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(
      failed.stderr,
      new RegExp(`\\n\\s+\\d+\\.\\ds\\s+start_failed: .*${dead}.*\\nferry: task-\\S+ failed to start: .*${dead}`),
    );
    const row = failed.stdout.split('\n')[1]!;
    assert.match(row, /\sstart_failed\s/);
    assert.ok(row.includes(dead), 'the table shows the reason');

    // A name server that accepts connections and never answers: the start check waits seconds for it,
    // so a one-second --timeout ends while the task is still initializing.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const slow = await ferry([
        'tasks',
        'create',
        '-f',
        await taskFile(
          'silent.json',
          taskBody({ name: `${name}-silent`, source: { ...endpointOf(a.c), nameServer: `127.0.0.1:${port}` } }),
        ),
        '--wait',
        '--timeout',
        '1',
      ]);
      assert.equal(slow.code, 1, slow.stderr);
      assert.match(slow.stderr, /\nferry: task-\S+ did not reach running within 1\.0s \(status: initializing\)\n$/);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
