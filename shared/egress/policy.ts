// Which addresses Ferry may open connections to on a tenant's behalf. A task names its clusters'
// addresses, so without a policy any tenant could make Ferry dial the cloud's metadata service or
// the deployment's own private services. One policy per process: the composition root installs
// the deployment's (FERRY_EGRESS_ALLOW or its default); until then the local default applies.
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** Loopback and the private ranges: what the local runtime may reach by default. */
export const LOCAL_DEFAULT_ALLOW = ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;
/** Private ranges only: a cloud function has no business with its own loopback. */
export const CLOUD_DEFAULT_ALLOW = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;

/**
 * Refused even when a broader allowed range covers them: link-local, the clouds' instance metadata
 * services, and "this host" (0.0.0.0 and :: reach the local machine on Linux). Only an allowed
 * range lying inside one of these (the operator naming it on purpose) opens it.
 */
const ALWAYS_REFUSED: readonly string[] = [
  '169.254.0.0/16',
  'fe80::/10',
  '169.254.169.254/32',
  'fd00:ec2::254/128',
  '100.100.100.200/32',
  '0.0.0.0/8',
  '::/128',
];

/**
 * An IP literal in any form the system resolver accepts (`2130706433`, `0x7f000001`, `127.1`,
 * `[::ffff:127.0.0.1]`) as its canonical address, IPv4-mapped IPv6 as IPv4; undefined for a hostname.
 */
export function normalizeIp(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!ipaddr.isValid(bare)) return undefined;
  return ipaddr.process(bare).toString();
}

/** A CIDR (`10.0.0.0/8`, `fc00::/7`) or single address; IPv4 in dotted four-part form only, so `10/8` is not misread. */
export function parseRange(text: string): Range | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  if (!v4 && !ipaddr.IPv6.isValid(addr)) return undefined;
  const parsed = ipaddr.process(addr);
  if (slash < 0) return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
  if (!/^\d{1,3}$/.test(t.slice(slash + 1))) return undefined;
  const bits = Number(t.slice(slash + 1));
  // An IPv4-mapped range (::ffff:10.0.0.0/104) is kept as the IPv4 range it stands for.
  if (!v4 && parsed.kind() === 'ipv4') return bits >= 96 && bits <= 128 ? [parsed, bits - 96] : undefined;
  return bits <= (v4 ? 32 : 128) ? [parsed, bits] : undefined;
}

const inRange = (a: Address, [net, bits]: Range): boolean => a.kind() === net.kind() && a.match(net, bits);
const rangeInside = (inner: Range, outer: Range): boolean => inner[1] >= outer[1] && inRange(inner[0], outer);

export class EgressPolicy {
  private readonly allowed: Range[];
  private static readonly refused: Range[] = ALWAYS_REFUSED.map((r) => parseRange(r)!);

  /** `ranges` must parse (shared/config.ts has checked them); a bad one throws. */
  constructor(ranges: readonly string[]) {
    this.allowed = ranges.map((r) => {
      const range = parseRange(r);
      if (!range) throw new Error(`not a CIDR range: ${r}`);
      return range;
    });
  }

  /** Whether an IP address (any literal form) may be connected to; false for anything that is not an IP. */
  allows(ip: string): boolean {
    const canonical = normalizeIp(ip);
    if (canonical === undefined) return false;
    const a = ipaddr.parse(canonical);
    const covering = this.allowed.filter((r) => inRange(a, r));
    if (covering.length === 0) return false;
    return EgressPolicy.refused.every((bad) => !inRange(a, bad) || covering.some((r) => rangeInside(r, bad)));
  }
}

let current = new EgressPolicy(LOCAL_DEFAULT_ALLOW);

/** The composition root's call: the deployment's policy for every connection this process opens. */
export function installEgressPolicy(policy: EgressPolicy): void {
  current = policy;
}

export function egressPolicy(): EgressPolicy {
  return current;
}
