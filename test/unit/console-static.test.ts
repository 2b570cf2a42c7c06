// The console's static files (shared/api/static.ts) through the router: content types, caching,
// client-route fallback, conditional requests, and no way out of the console's directory.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiRequest } from '../../shared/api/http.ts';
import { isConsoleRequest, serveConsole } from '../../shared/api/static.ts';

const req = (path: string, method = 'GET', headers: Record<string, string> = {}): ApiRequest => ({
  method,
  path,
  query: {},
  headers,
  body: undefined,
});

describe('console static files', () => {
  let base: string;
  let root: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'ferry-static-'));
    root = `${join(base, 'dist')}/`;
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Ferry</title>');
    writeFileSync(join(root, 'assets', 'main-ABC123.js'), 'console.log(1)');
    writeFileSync(join(root, 'assets', 'main-ABC123.css'), 'body{}');
    writeFileSync(join(root, 'assets', 'logo.png'), 'binary');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    writeFileSync(join(base, 'secret.txt'), 'outside');
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('claims every GET and HEAD outside /v1, nothing else', () => {
    for (const p of ['/', '/tasks/task-1', '/assets/x.js', '/v1x']) assert.equal(isConsoleRequest(req(p)), true, p);
    assert.equal(isConsoleRequest(req('/', 'HEAD')), true);
    for (const p of ['/v1', '/v1/tasks', '/v1/health']) assert.equal(isConsoleRequest(req(p)), false, p);
    assert.equal(isConsoleRequest(req('/', 'POST')), false);
  });

  it('serves index.html for / and every extension-less client route, revalidated each time', () => {
    for (const p of ['/', '/tasks', '/tasks/task-1', '/tasks/new']) {
      const r = serveConsole(req(p), root);
      assert.equal(r.status, 200, p);
      assert.equal(r.body, '<!doctype html><title>Ferry</title>');
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.match(r.headers['content-security-policy']!, /default-src 'self'/);
    }
  });

  it('serves hashed assets with their content type, cached for good', () => {
    const js = serveConsole(req('/assets/main-ABC123.js'), root);
    assert.equal(js.status, 200);
    assert.equal(js.body, 'console.log(1)');
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(serveConsole(req('/assets/main-ABC123.css'), root).headers['content-type'], 'text/css; charset=utf-8');
  });

  it('answers a matching If-None-Match with 304 and HEAD without a body', () => {
    const first = serveConsole(req('/'), root);
    const again = serveConsole(req('/', 'GET', { 'if-none-match': first.headers.etag! }), root);
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    const head = serveConsole(req('/assets/main-ABC123.js', 'HEAD'), root);
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('refuses missing files, non-text files, dotfiles and every way out of the directory', () => {
    for (const p of [
      '/assets/missing.js',
      '/assets/logo.png',
      '/.env',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%5c%2e%2e%5csecret.txt',
      '/assets/main-ABC123.js%00.html',
      '/%E0%A4%A',
    ]) {
      const r = serveConsole(req(p), root);
      assert.equal(r.status, 404, p);
      assert.ok(!r.body.includes('outside') && !r.body.includes('SECRET'), p);
    }
  });

  it('says how to build the console when it is not built', () => {
    const r = serveConsole(req('/tasks/task-1'), `${join(base, 'nowhere')}/`);
    assert.equal(r.status, 503);
    assert.match(r.body, /npm run build:console/);
  });
});
