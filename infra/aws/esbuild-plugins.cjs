// esbuild plugins for every function bundle (custom.esbuild.plugins in serverless.yml): the web
// console's build, then the files some functions load from beside their handler (the regex
// analyser's worker, the gRPC client).
const { dirname, join, relative } = require('node:path');
const consolePlugins = require('../../console/esbuild-plugins.cjs');

const root = join(__dirname, '..', '..');

// The gRPC client's own code, fixed for a bundle: @node-rs/crc32 (a native addon) is replaced by a
// JavaScript CRC-32, and the version the client reads from its package.json at load time (a file
// the bundle does not have) is written in.
const grpcClientFixes = {
  name: 'ferry-grpc-client-fixes',
  setup(build) {
    build.onResolve({ filter: /^@node-rs\/crc32$/ }, () => ({ path: join(root, 'shared', 'rocketmq', 'grpc', 'crc32-shim.mjs') }));
    build.onLoad({ filter: /rocketmq-client-nodejs[\\/]dist[\\/]client[\\/]UserAgent\.js$/ }, async (args) => {
      const { readFile } = require('node:fs/promises');
      const source = await readFile(args.path, 'utf8');
      const read = /JSON\.parse\(\(0, node_fs_1\.readFileSync\)\([^;]*package\.json'\), 'utf-8'\)\)\.version/;
      if (!read.test(source)) throw new Error('rocketmq-client-nodejs: UserAgent.js no longer reads its version as expected');
      const { version } = require('rocketmq-client-nodejs/package.json');
      return { contents: source.replace(read, JSON.stringify(version)), loader: 'js' };
    });
  },
};

// Files bundled beside some functions' handlers. serverless-esbuild puts `__only_<function>/…` in
// that function's zip alone (prefix dropped), so the other zips stay without their megabytes.
// - The regex analyser (recheck, shared/filter/redos.ts) runs in a worker thread started from
//   `./regex-worker.mjs`: only the api and reconciler check topic patterns.
// - The gRPC client (grpc-js, protobuf, rocketmq-client-nodejs), loaded by shared/rocketmq/grpc/
//   library.ts from `./grpc-client.mjs` when the package is not installed: the replicator only (the
//   reconciler's zip, with the analyser, would pass 1.5 MB; its start check of a gRPC side is then a
//   connection to the proxy, replication/grpc-checks.ts).
const EXTRAS = [
  { file: 'regex-worker.mjs', entry: 'shared/filter/regex-worker.mjs', functions: ['api', 'reconciler'], plugins: [] },
  {
    file: 'grpc-client.mjs',
    entry: 'shared/rocketmq/grpc/client-entry.mjs',
    functions: ['replicator'],
    plugins: [grpcClientFixes],
  },
];

const extrasBeside = {
  name: 'ferry-extras-beside',
  setup(build) {
    const entry = (build.initialOptions.entryPoints ?? [])[0];
    const outdir = build.initialOptions.outdir;
    if (typeof entry !== 'string' || !outdir) return;
    const rel = relative(process.cwd(), entry);
    const fn = /^functions[\\/]([^\\/]+)[\\/]/.exec(rel)?.[1];
    const extras = EXTRAS.filter((x) => x.functions.includes(fn));
    if (extras.length === 0) return;
    const fnDir = dirname(rel);
    const buildDir = outdir.slice(0, outdir.length - fnDir.length);
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      const { minify, target, platform, format, keepNames, banner } = build.initialOptions;
      for (const x of extras)
        await build.esbuild.build({
          entryPoints: [join(root, x.entry)],
          outfile: join(buildDir, `__only_${fn}`, fnDir, x.file),
          bundle: true,
          minify,
          target,
          platform,
          format,
          keepNames,
          // CommonJS inside (the gRPC client) needs `require` in an ES module.
          banner,
          plugins: x.plugins,
          logLevel: 'warning',
        });
    });
  },
};

module.exports = [...consolePlugins, extrasBeside];
