// SCF code packages for the four functions, built like the AWS ones (serverless.yml's esbuild
// settings and infra/aws/esbuild-plugins.cjs: minified, no source maps, the regex analyser only in
// api and reconciler, the console built and shipped with api) with two differences: the AWS SDK
// stays out (SCF invokes through the Tencent SDK), and a CommonJS `index.js` at the root holds the
// `main_handler` SCF calls, loading the ESM handler. Zips are deterministic (zip.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zip, type ZipEntry } from './zip.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const SCF_FUNCTIONS = ['api', 'reconciler', 'replicator', 'metadata-sync'] as const;
export type ScfFunctionKey = (typeof SCF_FUNCTIONS)[number];

export interface CodePackage {
  zip: Buffer;
  /** SHA-256 of the zip, hex. */
  sha256: string;
}

/** The handler SCF calls: `index.main_handler`. The ESM bundle is loaded once per instance, at init. */
const shim = (fn: ScfFunctionKey) =>
  `// SCF entry: the runtime requires index.js and calls main_handler(event, context).\n` +
  `'use strict';\nconst loaded = import('./functions/${fn}/handler.mjs');\n` +
  `exports.main_handler = async (event, context) => (await loaded).handler(event, context);\n`;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

const entry = (abs: string, base = root): ZipEntry => ({ name: relative(base, abs).split(sep).join('/'), data: readFileSync(abs) });

/** Bundles and zips every function (about as long as `serverless package`'s bundling). */
export async function buildScfPackages(): Promise<Record<ScfFunctionKey, CodePackage>> {
  const { build } = await import('esbuild');
  const plugins = createRequire(import.meta.url)('../aws/esbuild-plugins.cjs') as import('esbuild').Plugin[];
  const out = mkdtempSync(join(tmpdir(), 'ferry-scf-'));
  try {
    const result = {} as Record<ScfFunctionKey, CodePackage>;
    for (const fn of SCF_FUNCTIONS) {
      // Laid out as serverless-esbuild lays it out (outdir per function, entry relative to the
      // root), so the shared plugins put their extra files (the regex worker) where they do for AWS.
      const buildDir = join(out, fn);
      await build({
        absWorkingDir: root,
        entryPoints: [`functions/${fn}/handler.ts`],
        outdir: join(buildDir, 'functions', fn),
        outExtension: { '.js': '.mjs' },
        bundle: true,
        minify: true,
        keepNames: true,
        sourcemap: false,
        // The newest Node.js runtime the SCF API lists (Nodejs18.15); a newer one can be chosen at deploy.
        target: 'node18',
        platform: 'node',
        format: 'esm',
        // PGlite is the embedded store only; the AWS SDK is Lambda's invoker only; pg-native is optional.
        external: ['@electric-sql/pglite', '@aws-sdk/*', 'pg-native'],
        // Native addons (the gRPC client's CRC-32) are copied beside the bundle: SCF runs Linux x86-64
        // (glibc), so a package built on such a machine carries the right binary.
        loader: { '.node': 'copy' },
        banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
        plugins,
        logLevel: 'warning',
      });
      const files: ZipEntry[] = [
        { name: 'index.js', data: Buffer.from(shim(fn)) },
        // The bundle and whatever the plugins wrote beside it; `__only_<function>/` is theirs to mark
        // a file for one function's package, the prefix dropped in it (as serverless-esbuild does).
        ...filesUnder(buildDir).map((f) => {
          const e = entry(f, buildDir);
          return { ...e, name: e.name.replace(/^__only_[^/]+\//, '') };
        }),
        // The store applies these at cold start, found two directories above the handler.
        ...filesUnder(join(root, 'infra', 'migrations'))
          .filter((f) => f.endsWith('.sql'))
          .map((f) => entry(f)),
        // The web console, served by the api function at / (shared/api/static.ts).
        ...(fn === 'api' ? filesUnder(join(root, 'console', 'dist')).map((f) => entry(f)) : []),
      ];
      const bytes = zip(files);
      result[fn] = { zip: bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    return result;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
