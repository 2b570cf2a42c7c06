// Starts the local runtime (`npm start`'s entry) as a child process for tests over real HTTP, on
// the embedded store or a throwaway PostgreSQL database, with tokens minted beforehand the way an
// operator would (`npm run tokens`).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { issueToken } from '../../shared/auth/tokens.ts';
import { openStore } from '../../shared/store/index.ts';
import { freePortBlock } from '../testbed/ports.ts';
import { throwawayDataDir, throwawayPostgres, type Throwaway } from './databases.ts';

export interface Runtime {
  baseUrl: string;
  /** Admin of tenant `default` (FERRY_API_TOKEN). */
  adminToken: string;
  readerToken: string;
  /** Admin of tenant `other`. */
  otherTenantToken: string;
  /** The PostgreSQL database's URL (store 'postgres'), for tests that write to the store directly. */
  databaseUrl: string | undefined;
  /** The runtime process's id (for /proc figures: CPU time, RSS). */
  pid: number | undefined;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

const root = join(import.meta.dirname, '..', '..');

/**
 * `databaseUrl`: run on this existing PostgreSQL database (several runtimes sharing one store, as on
 * several machines) instead of a throwaway one; the caller creates and drops it.
 */
export async function startRuntime(opts: {
  store: 'embedded' | 'postgres';
  env?: Record<string, string>;
  databaseUrl?: string;
}): Promise<Runtime> {
  const db: Throwaway<string> = opts.databaseUrl
    ? { value: opts.databaseUrl, drop: async () => undefined }
    : opts.store === 'postgres'
      ? await throwawayPostgres()
      : await throwawayDataDir();
  const storeEnv = opts.store === 'postgres' ? { DATABASE_URL: db.value } : { FERRY_DATA_DIR: db.value };
  const adminToken = `test-admin-${Math.random().toString(36).slice(2)}-token`;
  const store = await openStore(opts.store === 'postgres' ? { databaseUrl: db.value, dataDir: '' } : { dataDir: db.value });
  const readerToken = await issueToken(store, 'default', 'reader', 'test reader');
  const otherTenantToken = await issueToken(store, 'other', 'admin', 'other tenant admin');
  await store.close();

  const port = await freePortBlock(1);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'infra/local/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: '',
      FERRY_DATA_DIR: '',
      ...storeEnv,
      PORT: String(port),
      FERRY_API_TOKEN: adminToken,
      LOG_LEVEL: 'debug',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  // Generous: on a busy 2-core machine tsx and PGlite alone can take tens of seconds to start.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await db.drop();
      throw new Error(`runtime exited: ${output}`);
    }
    try {
      if ((await fetch(`${baseUrl}/v1/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL'); // an orphan would keep the test process (and its data dir) alive
      await db.drop();
      throw new Error(`runtime did not answer: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    adminToken,
    readerToken,
    otherTenantToken,
    databaseUrl: opts.store === 'postgres' ? db.value : undefined,
    pid: child.pid,
    output: () => output,
    async stop() {
      // A process killed by a signal has a signalCode and no exitCode.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await db.drop();
    },
  };
}

export interface HttpResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON of any shape, asserted by tests
  body: any;
  text: string;
}

/** A JSON client; `token` null sends no Authorization header. */
export function client(rt: Runtime, token: string | null = rt.adminToken) {
  return async (method: string, path: string, body?: unknown, raw?: string): Promise<HttpResult> => {
    const res = await fetch(`${rt.baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  };
}
