// Runs FerryPeer (java/FerryPeer.java), a small program on Apache's own Java client, as an
// independent oracle for tests and as the benchmark baseline. It is compiled with javac against the
// version's classpath once per (version, source hash) into node_modules/.cache/ferry-testbed.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rocketmqClasspath } from './classpath.ts';
import { JAVA17_OPENS, TESTBED_MARKER } from './java-process.ts';
import type { ServerVersion } from './versions.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, 'java', 'FerryPeer.java');
const MAIN_CLASS = 'FerryPeer';
const cacheDir = join(here, '..', '..', 'node_modules', '.cache', 'ferry-testbed');

export interface JavaPeerResult {
  stdout: string;
  stderr: string;
  /** The JVM's exit code: 0 success, 1 failure, 2 bad arguments; 1 as well when killed on timeout. */
  exitCode: number;
  /** stdout's JSON lines, parsed. */
  lines: unknown[];
  timedOut: boolean;
  elapsedMs: number;
}

export interface JavaPeerOptions {
  /** Kill the JVM (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
}

const compiled = new Map<ServerVersion, Promise<string>>();
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

/** The directory holding FerryPeer.class for this version, compiling it first if needed. */
export function javaPeerClasses(version: ServerVersion): Promise<string> {
  let p = compiled.get(version);
  if (!p) {
    p = compile(version);
    compiled.set(version, p);
    p.catch(() => compiled.delete(version));
  }
  return p;
}

async function compile(version: ServerVersion): Promise<string> {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const finalDir = join(cacheDir, `peer-${version}-${hash}`);
  const marker = join(finalDir, `${MAIN_CLASS}.class`);
  if (existsSync(marker)) return finalDir;
  const classpath = await rocketmqClasspath(version);
  mkdirSync(cacheDir, { recursive: true });
  // Compile beside the final directory and rename it into place: a racing process either wins the
  // rename or finds the finished directory, never a half-written one.
  const tmp = mkdtempSync(join(cacheDir, `peer-${version}-${hash}.tmp-`));
  try {
    const r = await exec('javac', ['--release', '17', '-nowarn', '-encoding', 'UTF-8', '-d', tmp, '-cp', classpath, SOURCE], 180_000);
    if (r.exitCode !== 0) throw new Error(`javac FerryPeer.java against RocketMQ ${version} failed:\n${r.stderr}${r.stdout}`);
    try {
      renameSync(tmp, finalDir);
    } catch (err) {
      if (!existsSync(marker)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return finalDir;
}

/**
 * Runs `FerryPeer <args>` on the version's client jars, e.g.
 * `javaPeer('5.3.3', ['produce', '--namesrv', ns, '--topic', t, '--count', '10'])`.
 * Client logs go to a throwaway home, removed afterwards; set FERRY_PEER_LOG_DIR to keep them there.
 */
export async function javaPeer(version: ServerVersion, args: string[], opts: JavaPeerOptions = {}): Promise<JavaPeerResult> {
  const [classes, classpath] = await Promise.all([javaPeerClasses(version), rocketmqClasspath(version)]);
  const home = mkdtempSync(join(tmpdir(), 'ferry-peer-'));
  const bench = args[0]?.startsWith('bench') ?? false;
  const logDir = process.env.FERRY_PEER_LOG_DIR ?? join(home, 'logs');
  const jvm = [
    ...JAVA17_OPENS,
    '-Xms64m',
    '-Xmx256m',
    TESTBED_MARKER,
    // Oracle runs are short: serial GC and C1 only start faster. Benchmarks keep the JVM defaults.
    ...(bench ? [] : ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']),
    `-Duser.home=${home}`,
    // 4.9.7's client logger reads rocketmq.client.logRoot, 5.3.3's logback config rocketmq.log.root.
    `-Drocketmq.client.logRoot=${logDir}`,
    `-Drocketmq.log.root=${logDir}`,
    '-Dcom.rocketmq.sendMessageWithVIPChannel=false',
    '-Dferry.peer.watchStdin=true',
    '-cp',
    `${classes}:${classpath}`,
    MAIN_CLASS,
  ];
  try {
    const r = await exec('java', [...jvm, ...args], opts.timeoutMs ?? 120_000, home);
    return { ...r, lines: parseLines(r.stdout) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function parseLines(stdout: string): unknown[] {
  const lines: unknown[] = [];
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(t));
    } catch {
      throw new Error(`FerryPeer printed a line that is not JSON: ${t.slice(0, 200)}`);
    }
  }
  return lines;
}

interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut: boolean;
  elapsedMs: number;
}

/** Spawns with stdin held open (FerryPeer exits when it closes, so it cannot outlive us). */
function exec(cmd: string, args: string[], timeoutMs: number, cwd?: string): Promise<ExecResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // EPIPE once the child is gone
    if (child.pid) live.add(child.pid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      if (child.pid) live.delete(child.pid);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (child.pid) live.delete(child.pid);
      let stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) stderr += `\n[java-peer] killed after ${timeoutMs} ms`;
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr,
        exitCode: code ?? (signal ? 1 : 0),
        timedOut,
        elapsedMs: Date.now() - t0,
      });
    });
  });
}

/**
 * FerryPeer `consume` (args without the command) read again by a fresh JVM, up to `attempts` times,
 * while it has fewer than `expect` messages; what the reads saw is put together by position
 * (broker, queue, offset). Apache's lite pull consumer now and then never reads one queue after a
 * broker call failed at its start on a loaded machine; a new consumer does. A message stored twice
 * sits at two positions, so duplicates still show.
 */
export async function javaConsume(
  version: ServerVersion,
  args: string[],
  expect: number,
  opts: JavaPeerOptions & { attempts?: number } = {},
): Promise<JavaPeerResult> {
  const seen = new Map<string, unknown>();
  let last: JavaPeerResult | undefined;
  for (let attempt = 1; attempt <= (opts.attempts ?? 3) && (attempt === 1 || seen.size < expect); attempt++) {
    last = await javaPeer(version, ['consume', ...args], opts);
    for (const m of last.lines as { brokerName?: string; queueId?: number; queueOffset?: number }[])
      seen.set(`${m.brokerName}/${m.queueId}@${m.queueOffset}`, m);
  }
  const r = last!;
  if (seen.size <= r.lines.length) return r;
  // A later read completed what an earlier one missed: the merged lines, and success once all are there.
  return { ...r, lines: [...seen.values()], exitCode: seen.size >= expect ? 0 : r.exitCode };
}
