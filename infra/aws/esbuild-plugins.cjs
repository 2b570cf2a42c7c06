// esbuild plugins for every function bundle (custom.esbuild.plugins in serverless.yml): the web
// console's build, then the regex analyser's worker beside the functions that check patterns.
const { dirname, join, relative } = require('node:path');
const consolePlugins = require('../../console/esbuild-plugins.cjs');

/** Only these functions check topic patterns' safety (task validation in the API, start checks in the reconciler). */
const CHECKS_PATTERNS = /^functions[\\/](api|reconciler)[\\/]/;

// The analyser (recheck, shared/filter/redos.ts) runs in a worker thread started from
// `./regex-worker.mjs` beside the bundle. That file is bundled here, recheck inside, for the api and
// reconciler only: serverless-esbuild puts `__only_<function>/…` in that function's zip alone (prefix
// dropped), so the replicator and metadata sync zips stay without recheck's megabytes.
const regexWorker = {
  name: 'ferry-regex-worker',
  setup(build) {
    const entry = (build.initialOptions.entryPoints ?? [])[0];
    const outdir = build.initialOptions.outdir;
    if (typeof entry !== 'string' || !outdir) return;
    const rel = relative(process.cwd(), entry);
    const match = CHECKS_PATTERNS.exec(rel);
    if (!match) return;
    const fnDir = dirname(rel);
    const buildDir = outdir.slice(0, outdir.length - fnDir.length);
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      const { minify, target, platform, format, keepNames } = build.initialOptions;
      await build.esbuild.build({
        entryPoints: [join(__dirname, '..', '..', 'shared', 'filter', 'regex-worker.mjs')],
        outfile: join(buildDir, `__only_${match[1]}`, fnDir, 'regex-worker.mjs'),
        bundle: true,
        minify,
        target,
        platform,
        format,
        keepNames,
        logLevel: 'warning',
      });
    });
  },
};

module.exports = [...consolePlugins, regexWorker];
