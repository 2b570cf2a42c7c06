// serverless-esbuild adds these esbuild plugins to every function's bundle (custom.esbuild.plugins
// in serverless.yml). The first bundle to start builds the web console into console/dist, which
// the api function's package.patterns then copy in beside its handler, so `serverless package`
// always ships the console built from the current sources.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

let built = false;

module.exports = [
  {
    name: 'ferry-console',
    setup(build) {
      build.onStart(() => {
        if (built) return;
        built = true;
        // Synchronous, so the parallel function bundles never see a half-written dist.
        execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'build.ts')], {
          cwd: join(__dirname, '..'),
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      });
    },
  },
];
