// The local runtime's HTTP server under a body over the limit: a 2 MiB POST is answered 413
// PAYLOAD_TOO_LARGE (not 500, not a reset), the connection is then closed cleanly, and the server
// goes on answering.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHttpServer } from '../../infra/local/server.ts';
import { issueToken } from '../../shared/auth/tokens.ts';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

let db: Throwaway<string>;
let store: Store;
let server: ReturnType<typeof createHttpServer>;
let port: number;
let admin: string;

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  const log = pino({ level: 'silent' });
  const tasks = new TaskService(store, aesGcmCipher(randomBytes(32)), { requireManagedSide: false });
  server = createHttpServer({ store, storeKind: 'embedded', tasks, log, exporter: new PrometheusExporter(store) }, log);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  admin = await issueToken(store, 'default', 'admin', 'limits admin');
});
after(async () => {
  await new Promise((r) => server.close(r));
  await store.close();
  await db.drop();
});

/** One request on its own connection: status, headers, body, and whether the socket ended without an error. */
function post(body: Buffer): Promise<{ status: number; headers: Record<string, unknown>; text: string; cleanClose: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/tasks',
        agent: false,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const socket = res.socket;
          let errored = false;
          socket.once('error', () => (errored = true));
          const done = () => resolve({ status: res.statusCode!, headers: res.headers, text, cleanClose: !errored });
          if (socket.destroyed) done();
          else socket.once('close', done);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('local HTTP server limits', () => {
  it('a 2 MiB body is 413 PAYLOAD_TOO_LARGE and the connection closes cleanly', async () => {
    const res = await post(Buffer.alloc(2 * 1024 * 1024, 'a'));
    assert.equal(res.status, 413, res.text);
    assert.equal(JSON.parse(res.text).error.code, 'PAYLOAD_TOO_LARGE');
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.cleanClose, true);
  });

  it('the server goes on answering; a body within the limit reaches the API', async () => {
    const res = await post(Buffer.from(JSON.stringify({ name: 'x' })));
    assert.equal(res.status, 400, res.text);
    assert.equal(JSON.parse(res.text).error.code, 'VALIDATION_FAILED');
  });
});
