// Turns a host into the one address a connection may dial. Every address the name resolves to is
// checked, and the caller connects to the checked address itself, never to the name again: a second
// resolution could answer differently (DNS rebinding) and slip past the check.
import { lookup } from 'node:dns/promises';
import { egressPolicy, normalizeIp, type EgressPolicy } from './policy.ts';

/** A connection the egress policy refuses. The message names the host and address, nothing the peer sent. */
export class EgressDeniedError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      host === address
        ? `address ${address} is not allowed by the egress policy`
        : `${host} resolves to ${address}, which is not allowed by the egress policy`,
    );
    this.name = 'EgressDeniedError';
  }
}

/** The address to connect to for `host`; EgressDeniedError when it (or any address it resolves to) is outside the policy. */
export async function resolveAllowed(host: string, policy: EgressPolicy = egressPolicy()): Promise<string> {
  const literal = normalizeIp(host);
  if (literal !== undefined) {
    if (!policy.allows(literal)) throw new EgressDeniedError(host, literal);
    return literal;
  }
  const found = await lookup(host, { all: true, verbatim: true });
  const addresses = found.map((f) => normalizeIp(f.address) ?? f.address);
  const refused = addresses.find((a) => !policy.allows(a));
  if (refused !== undefined) throw new EgressDeniedError(host, refused);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  return addresses[0]!;
}
