// The local runtime's HTTP edge: node:http request → ApiRequest → the same router the functions use.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { errorResponse } from '../../shared/api/errors.ts';
import { MAX_BODY_BYTES, tooLarge, type ApiRequest } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import { isFerryError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';

/** Past this much the sender is cut off rather than drained (it is not a client that made a mistake). */
const MAX_DRAINED = 16 * MAX_BODY_BYTES;

/**
 * The body, or PAYLOAD_TOO_LARGE once it passes MAX_BODY_BYTES. The rest is read and dropped, not
 * left unread: closing a socket with unread bytes resets it, and the client would see a reset
 * instead of the 413.
 */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAINED) {
      req.destroy();
      break;
    }
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) throw tooLarge();
  return chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
}

/** The API, the console and Prometheus `/metrics`, all answered by the router. */
export function createHttpServer(deps: ApiDeps, log: Logger): Server {
  return createServer(async (req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let status = 500;
    try {
      const apiReq: ApiRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
        body: await readBody(req),
      };
      const out = await route(apiReq, deps);
      status = out.status;
      res.writeHead(out.status, out.headers).end(out.body);
    } catch (err) {
      if (isFerryError(err, 'PAYLOAD_TOO_LARGE')) {
        const out = errorResponse(err);
        status = out.status;
        // This connection has carried a body too large to take: it is not reused.
        res.writeHead(out.status, { ...out.headers, connection: 'close' }).end(out.body);
        return;
      }
      log.error({ err }, 'request failed');
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }));
    } finally {
      log.debug({ method: req.method, path: url.pathname, status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    }
  });
}
