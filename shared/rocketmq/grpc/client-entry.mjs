// Entry of grpc-client.mjs: the gRPC client bundled beside the functions that may reach a gRPC side
// (infra/aws/esbuild-plugins.cjs), for deployments without node_modules. library.ts loads it when
// the package itself is not installed.
export * as client from 'rocketmq-client-nodejs';
export * as protos from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
