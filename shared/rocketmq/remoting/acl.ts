import { createHmac } from 'node:crypto';

export interface Credentials {
  accessKey: string;
  secretKey: string;
  securityToken?: string;
}

/**
 * ACL 1.0 request signing (also accepted by ACL 2.0 brokers, username as AccessKey): the values of
 * all ext fields sorted by key, then the body, HMAC-SHA1 with the secret, base64.
 */
export function signRequest(extFields: Record<string, string>, body: Buffer | undefined, creds: Credentials): Record<string, string> {
  const fields: Record<string, string> = { ...extFields, AccessKey: creds.accessKey };
  if (creds.securityToken) fields.SecurityToken = creds.securityToken;
  delete fields.Signature;
  const keys = Object.keys(fields).sort();
  const hmac = createHmac('sha1', creds.secretKey);
  for (const k of keys) hmac.update(fields[k]!, 'utf8');
  if (body && body.length > 0) hmac.update(body);
  fields.Signature = hmac.digest('base64');
  return fields;
}
