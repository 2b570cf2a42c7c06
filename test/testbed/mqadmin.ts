import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rocketmqClasspath } from './classpath.ts';
import { JAVA17_OPENS, TESTBED_MARKER } from './java-process.ts';
import { writeRocketmqHome, writeToolsCredentials, type AdminCredentials } from './config-files.ts';
import type { ServerVersion } from './versions.ts';

export interface MqAdminResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs Apache's own admin tool (org.apache.rocketmq.tools.command.MQAdminStartup, the `mqadmin`
 * script's main class) from the version's jars. Credentials go in conf/tools.yml, where the tool
 * reads them. The tool prints errors and still exits 0, so callers assert on the output.
 */
export async function mqadmin(
  version: ServerVersion,
  args: string[],
  opts: { credentials?: AdminCredentials; timeoutMs?: number } = {},
): Promise<MqAdminResult> {
  const classpath = await rocketmqClasspath(version);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mqadmin-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  writeRocketmqHome(home, version, undefined);
  writeToolsCredentials(home, opts.credentials);
  const jvm = [
    '-Xms32m',
    '-Xmx128m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    ...JAVA17_OPENS,
    `-Drocketmq.home.dir=${home}`,
    `-Duser.home=${dir}`,
    '-Dcom.rocketmq.sendMessageWithVIPChannel=false',
    TESTBED_MARKER,
  ];
  try {
    return await new Promise((resolve) => {
      execFile(
        'java',
        [...jvm, '-cp', classpath, 'org.apache.rocketmq.tools.command.MQAdminStartup', ...args],
        { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, ROCKETMQ_HOME: home } },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ stdout, stderr, exitCode: code });
        },
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
