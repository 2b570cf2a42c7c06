// The operator's `ferry` commands as users run them — bin/ferry.mjs in a child process — against
// the local runtime on PostgreSQL: failures (list, retry), metadata, events, tokens (list, create,
// revoke), -o json|yaml|wide, --yes on deletes (and the terminal question, through run() with a
// stand-in terminal), and the bash/zsh completion scripts run in a real bash.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { run as runCli } from '../../shared/cli/program.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'ferry.mjs');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

const endpoint = (clusterId: string, nameServer: string) => ({
  clusterType: 'self-built',
  clusterId,
  protocol: 'remoting',
  nameServer,
  networkType: 'public',
});

describe('ferry operator commands over the local runtime', () => {
  let rt: Runtime;
  let store: Store;
  let api: ReturnType<typeof client>;
  let id: string;
  const name = `cli-ops-${Date.now()}`;

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

  const ok = async (args: string[]) => {
    const r = await ferry(args);
    assert.equal(r.code, 0, `ferry ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    // Tasks on made-up clusters, created stopped: nothing replicates, the store holds what the commands read.
    rt = await startRuntime({ store: 'postgres', env: { FERRY_RECONCILE_INTERVAL_MS: '86400000' } });
    store = await openStore({ databaseUrl: rt.databaseUrl!, dataDir: '' });
    api = client(rt);
    const created = await api('POST', '/v1/tasks', {
      name,
      direction: 'one-way',
      source: endpoint('c-ops-a', '127.0.0.1:9876'),
      target: endpoint('c-ops-b', '127.0.0.1:9877'),
      start: false,
    });
    assert.equal(created.status, 201, created.text);
    id = created.body.id;
  });
  after(async () => {
    await store?.close();
    await rt?.stop();
  });

  it('failures list: none, then parked messages as a table, -o wide, -o json (with --payload) and -o yaml', async () => {
    assert.equal((await ok(['failures', 'list', id])).stdout, 'No parked messages.\n');
    for (const [offset, reason] of [
      [7, 'target refused: topic not exist'],
      [8, 'send retries exhausted'],
    ] as const) {
      await store.parkMessage({
        taskId: id,
        flow: 'forward',
        topic: 'orders',
        broker: 'broker-a',
        queueId: 1,
        queueOffset: offset,
        reason,
        payload: new TextEncoder().encode(`body-${offset}`),
        properties: { KEYS: `k${offset}`, TAGS: 'tagA' },
      });
    }
    const human = (await ok(['failures', 'list', id])).stdout.split('\n');
    assert.match(human[0]!, /^ID\s+FLOW\s+TOPIC\s+QUEUE\s+OFFSET\s+STATE\s+PARKED\s+REASON$/);
    assert.match(human[1]!, /\sforward\s+orders\s+1\s+7\s+parked\s+\S+Z\s+target refused: topic not exist$/);
    assert.match(human[2]!, /\s8\s+parked\s.+send retries exhausted$/);
    const wide = (await ok(['failures', 'list', id, '-o', 'wide'])).stdout.split('\n');
    assert.match(wide[0]!, /\sBROKER\s+BYTES\s+KEYS\s+TAGS\s+RETRY REQUESTED\s+RESOLVED\s+REASON$/);
    assert.match(wide[1]!, /\sbroker-a\s+6\s+k7\s+tagA\s+-\s+-\s+target refused/);
    const json = JSON.parse((await ok(['failures', 'list', id, '-o', 'json'])).stdout);
    assert.equal(json.items.length, 2);
    assert.equal(json.items[0].payload, undefined, 'no bodies unless asked');
    const withBodies = JSON.parse((await ok(['failures', 'list', id, '--payload', '--json', '--limit', '1'])).stdout);
    assert.equal(withBodies.items.length, 1);
    assert.equal(Buffer.from(withBodies.items[0].payload, 'base64').toString(), 'body-7');
    const yaml = parseYaml((await ok(['failures', 'list', id, '-o', 'yaml'])).stdout);
    assert.deepEqual(yaml, json, 'yaml prints the same objects as json');
    const bad = await ferry(['failures', 'list', id, '--limit', '0']);
    assert.equal(bad.code, 2);
  });

  it('failures retry re-queues them; the list then says so', async () => {
    const r = await ok(['failures', 'retry', id]);
    assert.equal(r.stdout, `Requested a retry of 2 parked messages of ${id}.\n`);
    const human = (await ok(['failures', 'list', id])).stdout;
    assert.equal(human.match(/retry requested/g)?.length, 2, human);
    const again = JSON.parse((await ok(['failures', 'retry', id, '-o', 'json'])).stdout);
    assert.equal(typeof again.requested, 'number');
  });

  it('metadata: each item with its action and outcome; -o yaml the API object', async () => {
    assert.equal((await ok(['metadata', id])).stdout, 'No metadata synced yet.\n');
    await store.upsertMetadataItems(id, [
      { kind: 'topic', name: 'orders', direction: 'source_to_target', action: 'create', status: 'synced' },
      { kind: 'group', name: 'GID_billing', direction: 'source_to_target', action: 'update', status: 'failed', error: 'no route\nmore' },
    ]);
    const lines = (await ok(['metadata', id])).stdout.split('\n');
    assert.match(lines[0]!, /^KIND\s+NAME\s+DIRECTION\s+ACTION\s+STATUS\s+SYNCED\s+ERROR$/);
    const rows = lines.slice(1, 3).join('\n');
    assert.match(rows, /topic\s+orders\s+source_to_target\s+create\s+synced\s+\S+Z\s+-/);
    assert.match(rows, /group\s+GID_billing\s+source_to_target\s+update\s+failed\s+\S+Z\s+no route$/m);
    const yaml = parseYaml((await ok(['metadata', id, '-o', 'yaml'])).stdout);
    assert.deepEqual(yaml.items.map((i: { name: string }) => i.name).sort(), ['GID_billing', 'orders']);
  });

  it('events: the audit trail newest first; -o wide names what changed', async () => {
    assert.equal((await api('PATCH', `/v1/tasks/${id}`, { name: `${name}-renamed` })).status, 200);
    const lines = (await ok(['events', id])).stdout.split('\n');
    assert.match(lines[0]!, /^AT\s+ACTOR\s+ACTION$/);
    assert.match(lines[1]!, /Z\s+\S.*\s+rename$/);
    assert.match(lines.at(-2)!, /\screate$/);
    const wide = (await ok(['events', id, '-o', 'wide'])).stdout.split('\n');
    assert.match(wide[0]!, /^ID\s+AT\s+ACTOR\s+ACTION\s+CHANGED$/);
    assert.match(wide[1]!, /\srename\s+name$/);
    const json = JSON.parse((await ok(['events', id, '--json'])).stdout);
    assert.equal(json.items[0].action, 'rename');
  });

  it('tokens: create shows the token once; list shows ids, never tokens; revoke needs --yes off a terminal', async () => {
    const created = await ok(['tokens', 'create', '--role', 'reader', '--label', 'grafana']);
    const token = created.stdout.trim().split('\n').at(-1)!;
    assert.match(token, /^ferry_[A-Za-z0-9_-]{43}$/);
    const tokenId = /token (\w{16}) \(grafana\)/.exec(created.stdout)?.[1];
    assert.ok(tokenId, created.stdout);
    // The new token works: a reader may read.
    assert.equal((await ferry(['tasks', 'list'], { env: { FERRY_TOKEN: token } })).code, 0);

    const list = await ok(['tokens', 'list']);
    assert.match(list.stdout.split('\n')[0]!, /^ID\s+LABEL\s+ROLE\s+CREATED\s+EXPIRES\s+LAST USED\s+REVOKED$/);
    // Used once (tasks list): LAST USED is set; no expiry, not revoked.
    assert.match(list.stdout, new RegExp(`^${tokenId}\\s+grafana\\s+reader\\s+\\S+Z\\s+-\\s+\\S+Z\\s+-$`, 'm'));
    const expiring = await ok(['tokens', 'create', '--label', 'ci-month', '--expires-in-days', '30']);
    const expiringId = /token (\w{16}) \(ci-month\)/.exec(expiring.stdout)?.[1];
    const withExpiry = new RegExp(`^${expiringId}\\s+ci-month\\s+reader\\s+\\S+Z\\s+\\S+Z\\s+-\\s+-$`, 'm');
    assert.match((await ok(['tokens', 'list'])).stdout, withExpiry);
    assert.ok(!list.stdout.includes(token), 'never the token');
    const listed = JSON.parse((await ok(['tokens', 'list', '-o', 'json'])).stdout);
    assert.ok(!JSON.stringify(listed).includes(token));
    assert.ok(listed.items.some((t: { id: string }) => t.id === tokenId));

    // No terminal (stdin is a pipe) and no --yes: refused, naming --yes; nothing revoked.
    const refused = await ferry(['tokens', 'revoke', tokenId]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--yes/);
    assert.equal((await ferry(['tasks', 'list'], { env: { FERRY_TOKEN: token } })).code, 0);

    const revoked = await ok(['tokens', 'revoke', tokenId, '--yes']);
    assert.equal(revoked.stdout, `Revoked token ${tokenId}.\n`);
    assert.equal((await ferry(['tasks', 'list'], { env: { FERRY_TOKEN: token } })).code, 4, 'a revoked token is refused');
    const revokedRow = new RegExp(`^${tokenId}\\s+grafana\\s+reader\\s+\\S+Z\\s+-\\s+\\S+Z\\s+\\S+Z$`, 'm');
    assert.match((await ok(['tokens', 'list'])).stdout, revokedRow);
    // A reader may not administer tokens; an unknown id is not found.
    const asReader = await ferry(['tokens', 'list'], { env: { FERRY_TOKEN: rt.readerToken } });
    assert.equal(asReader.code, 1);
    assert.match(asReader.stderr, /^ferry: FORBIDDEN: /);
    const unknown = await ferry(['tokens', 'revoke', '0123456789abcdef', '--yes']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^ferry: NOT_FOUND: /);
    // Another tenant's token is not this tenant's to revoke.
    const other = JSON.parse((await ferry(['tokens', 'list', '-o', 'json'], { env: { FERRY_TOKEN: rt.otherTenantToken } })).stdout);
    const otherId = other.items[0].id as string;
    assert.equal((await ferry(['tokens', 'revoke', otherId, '--yes'])).code, 1);
  });

  it('tasks list -o wide and -o yaml; a format it does not know is a usage error', async () => {
    const wide = (await ok(['tasks', 'list', '-o', 'wide'])).stdout.split('\n');
    assert.match(
      wide[0]!,
      /^ID\s+NAME\s+STATUS\s+HEALTH\s+DESIRED\s+DIRECTION\s+SOURCE\s+TARGET\s+TOPICS\s+SHARDS\s+TPS\s+VERSION\s+CREATED/,
    );
    assert.match(
      wide.find((l) => l.startsWith(id))!,
      new RegExp(`^${id}\\s+${name}-renamed\\s+stopped\\s+ok\\s+stopped\\s+one-way\\s+c-ops-a\\s+c-ops-b\\s+\\.\\*\\s+auto\\s+-\\s+2\\s`),
    );
    const yaml = parseYaml((await ok(['tasks', 'list', '-o', 'yaml'])).stdout);
    assert.ok(Array.isArray(yaml));
    assert.equal(yaml.find((t: { id: string }) => t.id === id).name, `${name}-renamed`);
    const get = parseYaml((await ok(['tasks', 'get', id, '-o', 'yaml'])).stdout);
    assert.equal(get.id, id);
    const bad = await ferry(['tasks', 'list', '-o', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /json, yaml, wide/);
  });

  it('tasks delete: refused without --yes off a terminal; asks on a terminal; deletes with --yes', async () => {
    const refused = await ferry(['tasks', 'delete', id]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^ferry: Delete task .+: refusing without --yes/);
    assert.equal((await api('GET', `/v1/tasks/${id}`)).status, 200, 'still there');

    // On a terminal: run() in this process with a stand-in terminal that answers.
    const asked: string[] = [];
    const io = (answer: boolean, out: string[]) => ({
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void out.push(s),
      readInput: async () => '',
      confirm: async (q: string) => {
        asked.push(q);
        return answer;
      },
    });
    const argv = ['--url', rt.baseUrl, '--token', rt.adminToken, 'tasks', 'delete', id];
    const declinedOut: string[] = [];
    assert.equal(await runCli(argv, io(false, declinedOut)), 1);
    assert.deepEqual(asked, [`Delete task ${id}?`]);
    assert.equal(declinedOut.join(''), 'ferry: not deleted\n');
    assert.equal((await api('GET', `/v1/tasks/${id}`)).status, 200, 'declined: still there');
    const acceptedOut: string[] = [];
    assert.equal(await runCli(argv, io(true, acceptedOut)), 0);
    assert.equal(acceptedOut.join(''), `Deleted ${id}.\n`);
    assert.equal((await api('GET', `/v1/tasks/${id}`)).status, 404);

    const again = await api('POST', '/v1/tasks', {
      name: `${name}-2`,
      direction: 'one-way',
      source: endpoint('c-ops-a', '127.0.0.1:9876'),
      target: endpoint('c-ops-b', '127.0.0.1:9877'),
      start: false,
    });
    const del = await ok(['tasks', 'delete', again.body.id, '--yes']);
    assert.equal(del.stdout, `Deleted ${again.body.id}.\n`);
  });
});

describe('ferry completion', () => {
  const script = (shell: string) =>
    new Promise<Ran>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'completion', shell], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  /** What bash completes for the words typed so far (the last one being completed), with the script loaded. */
  const complete = (source: string, words: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      const array = words.map((w) => `'${w}'`).join(' ');
      const call = `COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _ferry_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const program = `${source}\n${call}`;
      const child = spawn('bash', ['--norc', '--noprofile', '-c', program], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 && !err ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`bash ${code}: ${err}`)),
      );
    });

  it('bash: commands, subcommands, options and option values, from the command tree', async () => {
    const bash = await script('bash');
    assert.equal(bash.code, 0, bash.stderr);
    assert.match(bash.stdout, /complete -F _ferry_complete ferry\n$/);
    const s = bash.stdout;
    assert.deepEqual(await complete(s, ['ferry', 'ta']), ['tasks']);
    assert.deepEqual((await complete(s, ['ferry', 't'])).sort(), ['tasks', 'tokens']);
    const tasks = await complete(s, ['ferry', 'tasks', '']);
    for (const c of ['list', 'get', 'create', 'delete', 'start', 'stop']) assert.ok(tasks.includes(c), `${c} in ${tasks.join(' ')}`);
    assert.deepEqual((await complete(s, ['ferry', 'failures', ''])).filter((w) => !w.startsWith('-')).sort(), ['list', 'retry']);
    assert.deepEqual(await complete(s, ['ferry', 'tasks', 'delete', 'task-1', '--y']), ['--yes']);
    assert.deepEqual(await complete(s, ['ferry', 'tasks', 'list', '-o', '']), ['json', 'yaml', 'wide']);
    assert.deepEqual(await complete(s, ['ferry', '--output', 'y']), ['yaml']);
    assert.deepEqual(await complete(s, ['ferry', 'completion', '']).then((w) => w.filter((x) => !x.startsWith('-'))), ['bash', 'zsh']);
    // Global options are offered under subcommands too.
    assert.ok((await complete(s, ['ferry', 'tokens', 'list', '--'])).includes('--token'));
  });

  it('zsh: the same function, loaded through bashcompinit', async () => {
    const zsh = await script('zsh');
    assert.equal(zsh.code, 0, zsh.stderr);
    const [first, , third] = zsh.stdout.split('\n');
    assert.equal(first, '#compdef ferry');
    assert.equal(third, 'autoload -U +X bashcompinit && bashcompinit');
    const bash = (await script('bash')).stdout;
    assert.ok(zsh.stdout.endsWith(bash.split('\n').slice(1).join('\n')), 'the completion function is the same as for bash');
    const fish = await script('fish');
    assert.equal(fish.code, 2);
  });
});
