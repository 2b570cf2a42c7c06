#!/usr/bin/env node
// The `ferry` command in the checkout (`npm run ferry`); the package's `bin` is dist/ferry.mjs, built
// by `npm run build:cli` (prepack). The CLI is TypeScript in shared/cli/. Loading it through tsx costs well over a
// second of CPU on every run (esbuild service, loader thread, per-file transforms), so this bundles it
// with esbuild (a dev dependency, like tsx) into node_modules/.cache/ferry-cli/ on first use and again
// only when a bundled source file changed. Packages stay external and resolve from the project's node_modules;
// the ReDoS checker sits in a chunk that only `tasks create` loads, and zod (for the API contract every
// answer is checked against) in chunks loaded with the first answer.
// Needs only `npm install` in the checkout; no build step to forget.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'node_modules', '.cache', 'ferry-cli');
const entry = join(outdir, 'main.mjs');
const stamp = join(outdir, 'inputs.json');

/** Every bundled source file still has the size and mtime it had when the bundle was built. */
function fresh() {
  try {
    statSync(entry);
    const inputs = JSON.parse(readFileSync(stamp, 'utf8'));
    return inputs.every(([path, mtimeMs, size]) => {
      const s = statSync(join(root, path));
      return s.mtimeMs === mtimeMs && s.size === size;
    });
  } catch {
    return false;
  }
}

/** Write-then-rename, so a concurrent `ferry` never imports a half-written file. */
function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

async function rebuild() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write('ferry: esbuild is not installed; run `npm install` (with dev dependencies) in the Ferry checkout\n');
    process.exit(1);
  }
  const r = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['shared/cli/main.ts'],
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  // The entry last: it imports the chunks, which must be complete by then.
  const files = [...r.outputFiles].sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
  for (const f of files) writeAtomically(f.path, f.contents);
  const inputs = Object.keys(r.metafile.inputs).map((p) => {
    const s = statSync(join(root, p));
    return [p, s.mtimeMs, s.size];
  });
  writeAtomically(stamp, JSON.stringify(inputs));
}

if (!fresh()) await rebuild();
await import(pathToFileURL(entry).href);
