// A stored endpoint's secrets in the clear, for the code that connects to its cluster: the ACL keys
// its clients sign with, and a Tencent endpoint's own Cloud API keys. Never returned by the API.
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import type { CloudApiKeys } from '../tencent-cloud/credentials.ts';

/** The ACL credentials the cluster's clients sign with, when the endpoint has ACL on. */
export function endpointCredentials(e: StoredEndpoint, cipher: SecretCipher): { accessKey: string; secretKey: string } | undefined {
  if (!e.acl?.enabled || !e.acl.accessKeySealed || !e.acl.secretKeySealed) return undefined;
  return { accessKey: cipher.decrypt(e.acl.accessKeySealed), secretKey: cipher.decrypt(e.acl.secretKeySealed) };
}

/** A Tencent endpoint's Cloud API keys, when the task has its own (else the deployment's are used). */
export function endpointCloudApiKeys(e: StoredEndpoint, cipher: SecretCipher): CloudApiKeys | undefined {
  if (!e.cloudApi) return undefined;
  return { secretId: cipher.decrypt(e.cloudApi.secretIdSealed), secretKey: cipher.decrypt(e.cloudApi.secretKeySealed) };
}
