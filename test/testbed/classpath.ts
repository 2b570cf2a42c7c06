import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ServerVersion } from './versions.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const cacheDir = join(here, '..', '..', 'node_modules', '.cache', 'ferry-testbed');
const inflight = new Map<ServerVersion, Promise<string>>();

/**
 * The runtime classpath of a RocketMQ version: Maven resolves the pom beside this file into ~/.m2
 * once; the resulting path list is cached per pom content and re-resolved if a jar disappears.
 */
export function rocketmqClasspath(version: ServerVersion): Promise<string> {
  let p = inflight.get(version);
  if (!p) {
    p = resolve(version);
    inflight.set(version, p);
    p.catch(() => inflight.delete(version));
  }
  return p;
}

async function resolve(version: ServerVersion): Promise<string> {
  const pom = join(here, `pom-${version}.xml`);
  const hash = createHash('sha256').update(readFileSync(pom)).digest('hex').slice(0, 12);
  const cached = join(cacheDir, `cp-${version}-${hash}.txt`);
  if (existsSync(cached)) {
    const cp = readFileSync(cached, 'utf8').trim();
    if (cp?.split(':').every((jar) => existsSync(jar))) return cp;
  }
  mkdirSync(cacheDir, { recursive: true });
  const out = `${cached}.tmp`;
  try {
    await run('mvn', ['-q', '-B', '-f', pom, 'dependency:build-classpath', `-Dmdep.outputFile=${out}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Maven could not resolve RocketMQ ${version}: ${e.stdout || e.stderr || e.message}`);
  }
  const cp = readFileSync(out, 'utf8').trim();
  writeFileSync(cached, cp);
  return cp;
}
