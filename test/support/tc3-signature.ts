// TC3-HMAC-SHA256 as the Tencent Cloud API checks it (written from the public API 3.0 signing
// description), from the request alone and the SecretKey of its SecretId. Shared by the fakes of
// the Cloud API (fake-tencent-cloud-api.ts) and of SCF (fake-scf-api.ts).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Tc3Result = { ok: true; secretId: string; service: string } | { ok: false; code: string; message: string };

const TC3 =
  /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** `keys`: SecretId → SecretKey accepted. */
export function verifyTc3(req: IncomingMessage, raw: Buffer, keys: Record<string, string>): Tc3Result {
  const fail = (code: string, message: string): Tc3Result => ({ ok: false, code, message });
  const m = TC3.exec(String(req.headers.authorization ?? ''));
  if (!m) return fail('AuthFailure.InvalidAuthorization', 'Authorization is not a TC3-HMAC-SHA256 signature');
  const [, secretId, date, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string];
  const secretKey = keys[secretId];
  if (secretKey === undefined) return fail('AuthFailure.SecretIdNotFound', `SecretId ${secretId} does not exist`);
  const timestamp = Number(req.headers['x-tc-timestamp']);
  if (!Number.isInteger(timestamp)) return fail('AuthFailure.InvalidAuthorization', 'X-TC-Timestamp is missing');
  if (Math.abs(Date.now() / 1000 - timestamp) > 300)
    return fail('AuthFailure.SignatureExpire', 'X-TC-Timestamp is more than 5 minutes off');
  if (date !== new Date(timestamp * 1000).toISOString().slice(0, 10))
    return fail('AuthFailure.InvalidAuthorization', 'the credential scope date is not the date of X-TC-Timestamp');
  // Signed with the host the client addressed; the port of a local listener is not part of it.
  const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
  if (service !== host.split('.')[0])
    return fail('AuthFailure.InvalidAuthorization', `credential scope service ${service} does not match host ${host}`);
  const names = signedHeaders.split(';');
  if (!names.includes('content-type') || !names.includes('host'))
    return fail('AuthFailure.InvalidAuthorization', 'content-type and host must be signed');
  const canonicalHeaders = names.map((n) => `${n}:${(n === 'host' ? host : String(req.headers[n] ?? '')).trim().toLowerCase()}\n`).join('');
  const url = new URL(req.url ?? '/', 'http://fake');
  const canonicalRequest = [req.method ?? '', url.pathname, url.search.slice(1), canonicalHeaders, signedHeaders, sha256Hex(raw)].join(
    '\n',
  );
  const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), `${date}/${service}/tc3_request`, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
  if (!timingSafeEqual(hmac(signingKey, stringToSign), Buffer.from(signature, 'hex')))
    return fail('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please check your signature is correct.');
  return { ok: true, secretId, service };
}
