// Dependency rules for Ferry's code (`npm run lint:deps`). Imports point down this stack, never up:
//
//   runtime                      shared/runtime: the composition root
//   edges                        shared/api, shared/monitoring, shared/cli (apart; the CLI uses the API's contract and client)
//   services                     shared/tasks/service.ts, shared/auth
//   core                         shared/metadata, shared/replication (independent of each other)
//   clusters                     shared/clusters: a stored endpoint turned into connections
//   adapters                     shared/rocketmq, store, secrets, tencent-cloud, invoker
//   domain                       shared/filter, shared/tasks (all but service.ts)
//   foundation                   shared/errors.ts, log.ts, config.ts, egress/ (which addresses Ferry may dial)
//
// functions/ (the deployed handlers) and infra/ (the local runtime, migrations) sit on top; test/
// may import anything. Type-only imports count like any other.

/** Lowest first; a layer may import its own and the layers before it. */
const LAYERS = [
  ['foundation', '^shared/((errors|log|config)\\.ts$|egress/)'],
  ['domain', '^shared/(filter/|tasks/(?!service\\.ts$))'],
  ['adapters', '^shared/(rocketmq|store|secrets|tencent-cloud|invoker)/'],
  ['clusters', '^shared/clusters/'],
  ['core', '^shared/(metadata|replication)/'],
  ['services', '^shared/(tasks/service\\.ts$|auth/)'],
  ['edges', '^shared/(api|monitoring|cli)/'],
  ['runtime', '^shared/runtime/'],
];

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `${name}-imports-upward`,
  severity: 'error',
  comment: `${name} (${path}) must not import a layer above it: ${LAYERS.slice(i + 1)
    .map(([above]) => above)
    .join(', ')}`,
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, above]) => above) },
}));

/**
 * Folders of one layer that stay apart ($1: the importing folder). The CLI is the API's client: it
 * may use the API's contract and client, nothing else of a sibling.
 */
const sideways = [
  {
    name: 'core-imports-sideways',
    severity: 'error',
    comment: 'metadata and replication are independent of each other',
    from: { path: '^shared/(metadata|replication)/' },
    to: { path: '^shared/(metadata|replication)/', pathNot: '^shared/$1/' },
  },
  {
    name: 'edges-imports-sideways',
    severity: 'error',
    comment: 'api and monitoring import no other edge',
    from: { path: '^shared/(api|monitoring)/' },
    to: { path: '^shared/(api|monitoring|cli)/', pathNot: '^shared/$1/' },
  },
  {
    name: 'cli-imports-sideways',
    severity: 'error',
    comment: 'the CLI reaches the API through its contract and client only, and not monitoring',
    from: { path: '^shared/cli/' },
    to: { path: '^shared/(monitoring/|api/(?!(contract|client)\\.ts$))' },
  },
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no module may reach itself through its imports',
      from: { path: '^(shared|functions|infra)/' },
      to: { circular: true },
    },
    {
      name: 'no-test-imports',
      severity: 'error',
      comment: 'production code must not import test code',
      from: { path: '^(shared|functions|infra)/' },
      to: { path: '^test/' },
    },
    {
      name: 'shared-imports-entry-points',
      severity: 'error',
      comment: 'shared/ is the library the functions and the local runtime are built from, not the other way round',
      from: { path: '^shared/' },
      to: { path: '^(functions|infra)/' },
    },
    {
      name: 'functions-import-infra',
      severity: 'error',
      comment: 'the deployed functions must not depend on the local runtime or its tooling',
      from: { path: '^functions/' },
      to: { path: '^infra/' },
    },
    ...upward,
    ...sideways,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|console)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
