import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface JavaProcessSpec {
  name: string;
  classpath: string;
  mainClass: string;
  args: string[];
  jvmArgs: string[];
  cwd: string;
  env?: Record<string, string>;
  logFile: string;
}

/**
 * System property on every JVM the test bed starts (servers, mqadmin, the Java peer), valued with
 * FERRY_RUN_ID when set, so a CI run can prove that none of ITS JVMs outlived it.
 */
export const TESTBED_MARKER = `-Dferry.testbed=${process.env.FERRY_RUN_ID ?? 'local'}`;

// Every JVM the test bed starts; killed synchronously if this Node process exits any other way.
const live = new Set<JavaProcess>();
process.once('exit', () => {
  for (const p of live) p.killNow();
});

/** What RocketMQ's Netty and stores need opened on Java 17 (servers, tools and clients alike). */
export const JAVA17_OPENS = [
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-exports=java.base/sun.nio.ch=ALL-UNNAMED',
];

/** A JVM in its own process group, so stopping it takes every thread and child with it. */
export class JavaProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: JavaProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    const out = openSync(this.spec.logFile, 'a');
    const child = spawn(
      'java',
      [...JAVA17_OPENS, ...this.spec.jvmArgs, TESTBED_MARKER, '-cp', this.spec.classpath, this.spec.mainClass, ...this.spec.args],
      { cwd: this.spec.cwd, env: { ...process.env, ...this.spec.env }, detached: true, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    this.child = child;
    live.add(this);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.exited.then(() => live.delete(this));
    child.unref();
    startWatchdog(child.pid!);
  }

  /** SIGTERM to the group, SIGKILL after graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return this.exited;
    this.child!.ref(); // keep the event loop alive until the exit is seen
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Abrupt death, as a crash would look to clients. */
  async kill(): Promise<void> {
    if (!this.running) return this.exited;
    this.child!.ref();
    this.signal('SIGKILL');
    await this.exited;
  }

  killNow(): void {
    if (this.running) this.signal('SIGKILL');
  }

  /** Resident memory of the JVM in MiB, read from /proc (undefined once it has exited). */
  rssMb(): number | undefined {
    const pid = this.child?.pid;
    if (!pid || !this.running) return undefined;
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kb ? Math.round(Number(kb) / 1024) : undefined;
    } catch {
      return undefined;
    }
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // group already gone
    }
  }
}

/**
 * A detached shell that outlives us: when this Node process dies (even by SIGKILL, when no exit
 * handler runs), it kills the JVM's process group, so no broker outlives a crashed test run.
 */
function startWatchdog(jvmPid: number): void {
  const script =
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${jvmPid} 2>/dev/null; do sleep 1; done; kill -9 -${jvmPid} ` +
    `2>/dev/null; exit 0`;
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}
