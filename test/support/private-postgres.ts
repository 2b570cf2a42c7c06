// A private PostgreSQL 15 server for tests that restart it (initdb in a temp dir, on a free port,
// as the `postgres` user when we are root) — never the machine's shared server.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortBlock } from '../testbed/ports.ts';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const asRoot = () => process.getuid?.() === 0;

/** Whether initdb is here and, as root, a `postgres` user to run it as. */
export function privatePostgresAvailable(): boolean {
  return existsSync(join(PG_BIN, 'initdb')) && (!asRoot() || spawnSync('id', ['postgres']).status === 0);
}

export interface PrivatePostgres {
  url: string;
  /**
   * pg_ctl restart (fast shutdown: connections are cut), waiting `downMs` while it is down. It runs
   * as a child without blocking the event loop, so the caller's calls meet the server gone.
   */
  restart(downMs?: number): Promise<void>;
  stop(): void;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
  chmodSync(dir, 0o777);
  const port = await freePortBlock(1);
  const data = join(dir, 'data');
  const command = (args: string[], tool = 'pg_ctl'): [string, string[]] =>
    asRoot() ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args]] : [join(PG_BIN, tool), args];
  const ctl = ['-D', data, '-w', '-t', '60'];
  const startArgs = ['-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'];
  // stdio ignored: the server pg_ctl starts would otherwise hold our pipes open (and the call with them).
  const run = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const [cmd, argv] = command(args);
      const child = spawn(cmd, argv, { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${args.at(-1)} exited with ${code}`))));
    });
  execFileSync(...command(['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], 'initdb'), { stdio: 'ignore' });
  await run([...ctl, ...startArgs]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart(downMs = 0) {
      await run([...ctl, '-m', 'fast', 'stop']);
      await new Promise((r) => setTimeout(r, downMs));
      await run([...ctl, ...startArgs]);
    },
    stop() {
      const [cmd, argv] = command([...ctl, '-m', 'immediate', 'stop']);
      spawnSync(cmd, argv, { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
