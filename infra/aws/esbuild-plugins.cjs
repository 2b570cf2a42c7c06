// esbuild plugins for every function bundle (custom.esbuild.plugins in serverless.yml): the web
// console's build, then the lean-bundle rule below.
const consolePlugins = require('../../console/esbuild-plugins.cjs');

/** Only these functions check topic patterns' safety (task validation in the API, start checks in the reconciler). */
const CHECKS_PATTERNS = /functions[\\/](api|reconciler)[\\/]/;

// recheck (the ReDoS analyser, shared/filter/redos.ts) is most of a bundle's size. The replicator and
// metadata sync never check a pattern, so their bundles get a stand-in that says so if that ever changes.
const withoutRegexAnalyser = {
  name: 'ferry-without-regex-analyser',
  setup(build) {
    const entries = JSON.stringify(build.initialOptions.entryPoints ?? []);
    if (CHECKS_PATTERNS.test(entries)) return;
    build.onResolve({ filter: /^recheck\/lib\/browser\.js$/ }, () => ({ path: 'recheck', namespace: 'ferry-absent' }));
    build.onLoad({ filter: /.*/, namespace: 'ferry-absent' }, () => ({
      loader: 'js',
      contents:
        "export default { checkSync() { throw new Error('the regex analyser is not bundled into this function: " +
        "only api and reconciler check topic patterns (infra/aws/esbuild-plugins.cjs)'); } };",
    }));
  },
};

module.exports = [...consolePlugins, withoutRegexAnalyser];
