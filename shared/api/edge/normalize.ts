// The small rules every edge adapter applies the same way, so a request looks identical to the router
// whichever gateway delivered it (and identical to what the local node:http edge produces).

/** Deployment-specific knobs for turning a provider event into an ApiRequest. */
export interface EdgeOptions {
  /**
   * A path prefix the gateway leaves on the request path but that is not part of Ferry's API: an
   * SCF API Gateway API configured at `/ferry` forwards `/ferry/v1/health`; an AWS HTTP API stage
   * other than `$default` puts `/<stage>` in rawPath. Stripped only when the path starts with it.
   */
  basePath?: string;
}

/** Header names lower-cased (SCF keeps the client's case); names that collide are joined with ',' as HTTP allows. */
export function lowerCaseHeaders(headers: Readonly<Record<string, string | undefined>> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    const key = name.toLowerCase();
    const prev = out[key];
    out[key] = prev === undefined ? String(value) : `${prev},${String(value)}`;
  }
  return out;
}

/** One string per query key; repeated keys are joined with ',' — what AWS HTTP APIs do in payload 2.0. */
export function singleValueQuery(
  query: Readonly<Record<string, string | readonly string[] | undefined>> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    out[key] = typeof value === 'string' ? value : value.join(',');
  }
  return out;
}

/** Parses a raw query string into the same single-value form (repeated keys joined with ','). */
export function parseQueryString(raw: string): Record<string, string> {
  const grouped: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(raw)) (grouped[key] ??= []).push(value);
  return singleValueQuery(grouped);
}

/**
 * Ferry's API is JSON only, so a body is always UTF-8 text once decoded. An empty body is treated as
 * no body, matching the local edge (which cannot tell the two apart) and SCF (which sends "" for GETs).
 */
export function decodeBody(body: string | null | undefined, isBase64Encoded: boolean | null | undefined): string | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  return text === '' ? undefined : text;
}

/** Removes `basePath` from the front of `path` when present at a segment boundary; always returns an absolute path. */
export function stripBasePath(path: string, basePath: string | undefined): string {
  const absolute = path.startsWith('/') ? path : `/${path}`;
  const base = normalizeBasePath(basePath);
  if (base === '') return absolute;
  if (absolute === base) return '/';
  if (absolute.startsWith(`${base}/`)) return absolute.slice(base.length);
  return absolute;
}

// "ferry", "/ferry/" and "/ferry" mean the same prefix; "" and "/" mean none.
function normalizeBasePath(basePath: string | undefined): string {
  if (!basePath) return '';
  const trimmed = basePath.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
