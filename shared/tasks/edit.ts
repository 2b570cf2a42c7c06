// Editing a stored task (PATCH /v1/tasks/{id}). The patch is a JSON merge patch (RFC 7396) of the
// definition the task holds — its create body, secrets in the clear — so `{"source": {"nameServer":
// …}}` changes one field and an omitted secret keeps the stored one. The fields that tie a task to
// its clusters and its history cannot change; the merged definition is checked with the create
// rules; and what changed is worked out on the plain values, so an edit that changes nothing (a
// secret given again, a whole task file applied twice) writes nothing.
import { isDeepStrictEqual } from 'node:util';
import { FerryError } from '../errors.ts';
import { parseInput } from './issue.ts';
import { sealEndpoint, taskOptions, type Sealer } from './model.ts';
import { TaskInput, type TaskPatchInput } from './schema.ts';
import type { StoredEndpoint, TaskSpec } from './stored-task.ts';
import { fitGrpcCapabilities } from './grpc-capabilities.ts';

/** What editing asks of a cipher: the stored secrets are compared (and kept) in the clear. */
export interface SecretBox extends Sealer {
  decrypt(sealed: string): string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7396: objects merge key by key, `null` removes a key, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Json = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    // defineProperty: a "__proto__" key from JSON stays a plain (and then unknown, refused) field.
    else Object.defineProperty(out, key, { value: mergePatch(out[key], value), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function unsealEndpoint(e: StoredEndpoint, box: SecretBox): Json {
  const { acl, cloudApi, ...rest } = e;
  const out: Json = { ...rest };
  if (acl) {
    out.acl =
      acl.enabled && acl.accessKeySealed && acl.secretKeySealed
        ? { enabled: true, accessKey: box.decrypt(acl.accessKeySealed), secretKey: box.decrypt(acl.secretKeySealed) }
        : { enabled: false };
  }
  if (cloudApi) out.cloudApi = { secretId: box.decrypt(cloudApi.secretIdSealed), secretKey: box.decrypt(cloudApi.secretKeySealed) };
  return out;
}

/** The definition a task holds, as its create body would state it (secrets in the clear, no `start`). */
function definitionOf(name: string, spec: TaskSpec, box: SecretBox): Json {
  return {
    name,
    direction: spec.direction,
    source: unsealEndpoint(spec.source, box),
    target: unsealEndpoint(spec.target, box),
    startOffset: spec.startOffset,
    filter: spec.filter,
    tpsLimit: spec.tpsLimit,
    idempotentResume: spec.idempotentResume,
    shards: spec.shards ?? 'auto',
    ...taskOptions(spec),
  };
}

/** Plain JSON, an endpoint with ACL off reduced to `{enabled: false}` as it is stored. */
function canonical(definition: Json): Json {
  const plain = JSON.parse(JSON.stringify(definition)) as Json;
  for (const side of ['source', 'target']) {
    const e = plain[side];
    if (isObject(e) && isObject(e.acl) && e.acl.enabled === false) e.acl = { enabled: false };
  }
  delete plain.start;
  return plain;
}

const IMMUTABLE: Record<string, string> = {
  direction: 'direction cannot be changed; create a task for the other direction instead',
  startOffset: 'startOffset cannot be changed: it applied when the task first started (use reset-offset to replay from a time)',
  idempotentResume: 'idempotentResume cannot be changed after creation',
};

const IMMUTABLE_ENDPOINT = ['clusterType', 'clusterId', 'region'] as const;

function refuseImmutableChanges(current: Json, merged: Json): void {
  for (const [field, message] of Object.entries(IMMUTABLE)) {
    if (!isDeepStrictEqual(current[field], merged[field])) throw new FerryError('FIELD_IMMUTABLE', message, field);
  }
  for (const side of ['source', 'target']) {
    const was = current[side] as Json;
    const now = merged[side];
    if (!isObject(now)) continue; // not an endpoint at all: the create rules say so
    for (const key of IMMUTABLE_ENDPOINT) {
      if (key === 'region' && was.clusterType !== 'tencent') continue;
      if (!isDeepStrictEqual(was[key], now[key])) {
        const field = `${side}.${key}`;
        throw new FerryError(
          'FIELD_IMMUTABLE',
          `${field} cannot be changed: a task stays with its clusters (create a task for another cluster)`,
          field,
        );
      }
    }
  }
}

/** The leaf paths where two plain values differ (an array is one leaf). */
function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return isDeepStrictEqual(a, b) ? [] : [prefix];
}

/** Two self-built sides with the same name server list are one cluster (create and edit refuse it). */
export function refuseSameCluster(input: Pick<TaskInput, 'source' | 'target'>): void {
  const norm = (s: string) =>
    s
      .split(';')
      .map((x) => x.trim())
      .filter(Boolean)
      .sort()
      .join(';');
  if (
    input.source.clusterType === 'self-built' &&
    input.target.clusterType === 'self-built' &&
    norm(input.source.nameServer) === norm(input.target.nameServer)
  ) {
    throw new FerryError('VALIDATION_FAILED', 'source and target are the same cluster', 'target.nameServer');
  }
}

export interface PlannedEdit {
  name: string;
  spec: TaskSpec;
  /** Dotted paths of what changed (secrets named, never shown); empty when the edit changes nothing. */
  changed: string[];
}

/**
 * The task after `patch` (parsed with TaskPatchInput): FIELD_IMMUTABLE for a field that cannot
 * change, VALIDATION_FAILED (naming the field) when the merged definition breaks a create rule.
 * Parts of the stored spec that did not change are kept as stored (sealed secrets included).
 */
export function planEdit(task: { name: string; spec: TaskSpec }, patch: TaskPatchInput, box: SecretBox): PlannedEdit {
  const { version: _version, ...changes } = patch;
  const current = definitionOf(task.name, task.spec, box);
  const merged = mergePatch(current, changes) as Json;
  refuseImmutableChanges(current, merged);
  const input = parseInput(TaskInput, merged);
  refuseSameCluster(input);
  // The stored definition counts as asked for: an edit onto a gRPC side must turn off what it cannot serve.
  fitGrpcCapabilities(input, merged as Record<string, unknown>);
  const changed = changedPaths(canonical(current), canonical(input));
  const touched = (field: string) => changed.some((p) => p === field || p.startsWith(`${field}.`));
  const { spec } = task;
  return {
    name: input.name,
    spec: {
      ...spec,
      source: touched('source') ? sealEndpoint(input.source, box) : spec.source,
      target: touched('target') ? sealEndpoint(input.target, box) : spec.target,
      filter: touched('filter') ? input.filter : spec.filter,
      tpsLimit: input.tpsLimit,
      ...(touched('shards') ? { shards: input.shards } : {}),
      ...(touched('groups') ? { groups: input.groups } : {}),
      ...(touched('metadataSync') ? { metadataSync: input.metadataSync } : {}),
      ...(touched('offsetSync') ? { offsetSync: input.offsetSync } : {}),
    },
    changed,
  };
}
