// The OpenAPI document against the router itself: every route the router answers is in the
// document under its method with an operationId (unique across the document), every path
// parameter of the route is declared, and the query parameters the handlers read are documented.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiDocument } from '../../shared/api/openapi.ts';
import { routeTable } from '../../shared/api/router.ts';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
}
interface OperationObject {
  operationId?: string;
  parameters?: Parameter[];
  responses?: Record<string, unknown>;
}

const doc = openApiDocument();
const paths = doc.paths as Record<string, Record<string, OperationObject>>;
const operationOf = (method: string, path: string) => paths[path]?.[method.toLowerCase()];

describe('OpenAPI document covers the router', () => {
  const routes = routeTable();

  it('knows the routes of the API, health and /metrics', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    for (const k of ['POST /v1/tasks', 'GET /v1/tasks/{id}', 'GET /v1/health', 'GET /metrics', 'GET /v1/openapi.json'])
      assert.ok(keys.includes(k), `${k} among ${keys.join(', ')}`);
    assert.equal(new Set(keys).size, keys.length, 'no route twice');
  });

  for (const r of routes) {
    it(`${r.method} ${r.path} is documented with operationId ${r.operationId}`, () => {
      const op = operationOf(r.method, r.path);
      assert.ok(op, `${r.method} ${r.path} is missing from the document`);
      assert.equal(op.operationId, r.operationId);
      assert.ok(op.responses && Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), 'documents its success answer');
      for (const name of r.path.match(/\{(\w+)\}/g)?.map((p) => p.slice(1, -1)) ?? []) {
        const param: Parameter | undefined = op.parameters?.find((p) => p.name === name && p.in === 'path');
        assert.ok(param, `path parameter ${name} is declared`);
        assert.equal(param.required, true, `path parameter ${name} is required`);
      }
    });
  }

  it('has an operationId on every operation, each one once', () => {
    const ids = Object.values(paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId));
    for (const id of ids) assert.ok(typeof id === 'string' && id.length > 0, 'an operation without operationId');
    assert.equal(new Set(ids).size, ids.length, `duplicate operationIds: ${ids.join(', ')}`);
    // Nothing documented that the router does not answer.
    const routed = new Set(routeTable().map((r) => r.operationId));
    for (const id of ids) assert.ok(routed.has(id!), `${id} is documented but not routed`);
  });

  it('documents the query parameters the handlers read', () => {
    const queryOf = (method: string, path: string) =>
      (operationOf(method, path)?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    assert.deepEqual(queryOf('GET', '/v1/tasks').sort(), ['cursor', 'limit', 'name', 'status']);
    assert.deepEqual(queryOf('GET', '/v1/tasks/{id}/metrics').sort(), ['from', 'to']);
    assert.deepEqual(queryOf('GET', '/v1/tasks/{id}/failures').sort(), ['includePayload', 'limit']);
  });
});
