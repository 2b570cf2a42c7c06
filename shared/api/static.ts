// The web console's built files (console/dist, from `npm run build:console`), answered by the same
// router as the API so the API function and the local runtime serve `/` identically. Only text
// files are served: every edge passes bodies as UTF-8 strings, and the build emits nothing else.
import { readFileSync, statSync, type Stats } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiRequest, ApiResponse } from './http.ts';

// Two levels up from here is the project root in the sources (shared/api/static.ts) and the package
// root in the API bundle (functions/api/handler.mjs), which carries console/dist beside it.
export const CONSOLE_DIR = fileURLToPath(new URL('../../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// Files under assets/ carry a content hash in their names, so they never change once published.
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const HTML_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // uPlot and Preact set inline styles; everything else comes from this origin.
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; " +
    "base-uri 'none'; form-action 'self'",
};

/** True for the paths the console owns: every GET/HEAD outside `/v1`. */
export const isConsoleRequest = (req: ApiRequest): boolean =>
  (req.method === 'GET' || req.method === 'HEAD') && req.path !== '/v1' && !req.path.startsWith('/v1/');

/**
 * A file of the console, or index.html for any extension-less path (the console's own routes such
 * as `/tasks/<id>`); 404 for anything that is not a plain file inside `root`.
 */
export function serveConsole(req: ApiRequest, root: string = CONSOLE_DIR): ApiResponse {
  let path: string;
  try {
    path = decodeURIComponent(req.path);
  } catch {
    return notFound();
  }
  const parts = path.split('/').filter((p) => p !== '');
  // No parent references, no dotfiles, no backslashes or NULs that another OS layer might reinterpret.
  if (parts.some((p) => p.startsWith('.') || p.includes('\\') || p.includes('\0'))) return notFound();
  const last = parts.at(-1) ?? '';
  const isFile = extname(last) !== '';
  const file = isFile ? join(root, ...parts) : join(root, 'index.html');
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) return notFound();
  const type = TYPES[extname(file)];
  if (!type) return notFound();

  let stat: Stats;
  try {
    stat = statSync(file);
  } catch {
    return isFile ? notFound() : notBuilt();
  }
  if (!stat.isFile()) return notFound();
  const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    'content-type': type,
    'cache-control': parts[0] === 'assets' ? IMMUTABLE : REVALIDATE,
    etag,
    ...(type.startsWith('text/html') ? HTML_HEADERS : { 'x-content-type-options': 'nosniff' }),
  };
  if (req.headers['if-none-match'] === etag) return { status: 304, headers, body: '' };
  return { status: 200, headers, body: req.method === 'HEAD' ? '' : readFileSync(file, 'utf8') };
}

const notFound = (): ApiResponse => ({
  status: 404,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': REVALIDATE },
  body: 'not found\n',
});

const notBuilt = (): ApiResponse => ({
  status: 503,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': REVALIDATE },
  body: 'the console is not built: run `npm run build:console`\n',
});
