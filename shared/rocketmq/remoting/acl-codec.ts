// Wire shapes of the ACL requests in admin.ts, ACL 1.0 accounts (4.x … 5.3.2) and ACL 2.0 users
// and ACLs (5.3+): header fields, JSON bodies, and tolerant parsing of what brokers answer.
import { asObject, definedOnly, oneOf, parseJson, str, stringList } from './admin-json.ts';
import { RemotingError } from './errors.ts';

// ---- ACL 1.0 ----

/** Permission strings of plain_acl.yml: DENY, PUB, SUB, PUB|SUB. */
export type PlainPerm = 'DENY' | 'PUB' | 'SUB' | 'PUB|SUB';

export interface PlainAccessConfig {
  accessKey: string;
  secretKey: string;
  /** IP pattern (e.g. `192.168.0.*`); absent = any address. */
  whiteRemoteAddress?: string;
  admin: boolean;
  defaultTopicPerm?: PlainPerm;
  defaultGroupPerm?: PlainPerm;
  /** `topic=PERM` entries, e.g. `orders=PUB|SUB`. */
  topicPerms: string[];
  /** `group=PERM` entries. */
  groupPerms: string[];
}

export interface PlainAclConfig {
  globalWhiteAddrs: string[];
  accounts: PlainAccessConfig[];
}

export interface AclConfigVersion {
  brokerName?: string;
  brokerAddr?: string;
  clusterName?: string;
  /** Version of the default plain_acl.yml (a DataVersion JSON), when the broker reports it. */
  version?: string;
  /** Every ACL file's DataVersion, by path, as JSON text. */
  allAclFileVersion?: string;
}

/**
 * CreateAccessConfigRequestHeader: permission lists travel comma-joined (UtilAll.join / split on the broker).
 * An update keeps every field the header leaves out, so `replace` states each one: an empty white
 * address, `,` for an empty list (Java's split gives no elements for it; an absent field keeps the
 * old list) and DENY for an absent default permission (what the broker assumes when there is none).
 */
export function plainAccessHeader(a: PlainAccessConfig, opts: { replace?: boolean } = {}): Record<string, string> {
  const header: Record<string, string> = { accessKey: a.accessKey, secretKey: a.secretKey, admin: String(a.admin) };
  const replace = opts.replace === true;
  if (a.whiteRemoteAddress || replace) header.whiteRemoteAddress = a.whiteRemoteAddress ?? '';
  if (a.defaultTopicPerm || replace) header.defaultTopicPerm = a.defaultTopicPerm ?? 'DENY';
  if (a.defaultGroupPerm || replace) header.defaultGroupPerm = a.defaultGroupPerm ?? 'DENY';
  if (a.topicPerms.length > 0 || replace) header.topicPerms = a.topicPerms.length > 0 ? a.topicPerms.join(',') : ',';
  if (a.groupPerms.length > 0 || replace) header.groupPerms = a.groupPerms.length > 0 ? a.groupPerms.join(',') : ',';
  return header;
}

export function parsePlainAclConfig(text: string): PlainAclConfig {
  const root = asObject(parseJson(text, 'ACL config'), 'ACL config');
  const accounts = (Array.isArray(root.plainAccessConfigs) ? root.plainAccessConfigs : []).map((raw, i) => {
    const o = asObject(raw, `ACL account ${i}`);
    const a: PlainAccessConfig = {
      accessKey: str(o.accessKey) ?? '',
      secretKey: str(o.secretKey) ?? '',
      admin: o.admin === true,
      topicPerms: stringList(o.topicPerms),
      groupPerms: stringList(o.groupPerms),
    };
    const white = str(o.whiteRemoteAddress);
    if (white) a.whiteRemoteAddress = white;
    const dt = plainPerm(o.defaultTopicPerm);
    if (dt) a.defaultTopicPerm = dt;
    const dg = plainPerm(o.defaultGroupPerm);
    if (dg) a.defaultGroupPerm = dg;
    return a;
  });
  return { globalWhiteAddrs: stringList(root.globalWhiteAddrs), accounts };
}

export function parseAclConfigVersion(ext: Record<string, string>): AclConfigVersion {
  return definedOnly({
    brokerName: ext.brokerName,
    brokerAddr: ext.brokerAddr,
    clusterName: ext.clusterName,
    version: ext.version,
    allAclFileVersion: ext.allAclFileVersion,
  });
}

function plainPerm(v: unknown): PlainPerm | undefined {
  const s = str(v)?.replace(/\s+/g, '');
  if (s === 'DENY' || s === 'PUB' || s === 'SUB' || s === 'PUB|SUB') return s;
  if (s === 'SUB|PUB') return 'PUB|SUB';
  return undefined;
}

// ---- ACL 2.0 ----

export type UserType = 'Super' | 'Normal';
export type UserStatus = 'enable' | 'disable';

export interface UserInfo {
  username: string;
  /** Plain text: the broker stores and returns it as is. Treat as a secret. */
  password?: string;
  userType?: UserType;
  userStatus?: UserStatus;
}

export type PolicyType = 'Custom' | 'Default';
export type AclAction = 'All' | 'Pub' | 'Sub' | 'Create' | 'Update' | 'Delete' | 'Get' | 'List';
export type AclDecision = 'Allow' | 'Deny';

export interface AclEntry {
  /** `Topic:name`, `Group:name`, `Cluster:name`, with `*` for any or a trailing `*` for a prefix; `*` alone = anything. */
  resource: string;
  actions: AclAction[];
  /** IPs or CIDRs; empty/absent = any source. */
  sourceIps?: string[];
  decision: AclDecision;
}

export interface AclPolicy {
  /** Absent = Custom (the broker's default). */
  policyType?: PolicyType;
  entries: AclEntry[];
}

export interface AclInfo {
  /** `User:name`. */
  subject: string;
  policies: AclPolicy[];
}

export function userInfoBody(u: UserInfo): Buffer {
  return Buffer.from(
    JSON.stringify(definedOnly({ username: u.username, password: u.password, userType: u.userType, userStatus: u.userStatus })),
    'utf8',
  );
}

export function aclInfoBody(a: AclInfo): Buffer {
  return Buffer.from(JSON.stringify(a), 'utf8');
}

export function parseUserInfo(text: string): UserInfo {
  return toUserInfo(parseJson(text, 'user'));
}

export function parseUserInfoList(text: string): UserInfo[] {
  const list = parseJson(text, 'user list');
  if (!Array.isArray(list)) throw new RemotingError('user list is not a JSON array');
  return list.map(toUserInfo);
}

function toUserInfo(raw: unknown): UserInfo {
  const o = asObject(raw, 'user');
  const username = str(o.username);
  if (!username) throw new RemotingError('user without a username');
  const u: UserInfo = { username };
  const password = str(o.password);
  if (password !== undefined) u.password = password;
  const type = str(o.userType);
  if (type !== undefined) u.userType = oneOf<UserType>(type, ['Super', 'Normal'], 'userType');
  const status = str(o.userStatus);
  if (status !== undefined) u.userStatus = oneOf<UserStatus>(status, ['enable', 'disable'], 'userStatus');
  return u;
}

export function parseAclInfo(text: string): AclInfo {
  return toAclInfo(parseJson(text, 'acl'));
}

export function parseAclInfoList(text: string): AclInfo[] {
  const list = parseJson(text, 'acl list');
  if (!Array.isArray(list)) throw new RemotingError('acl list is not a JSON array');
  return list.map(toAclInfo);
}

const ACTIONS: readonly AclAction[] = ['All', 'Pub', 'Sub', 'Create', 'Update', 'Delete', 'Get', 'List'];

function toAclInfo(raw: unknown): AclInfo {
  const o = asObject(raw, 'acl');
  const subject = str(o.subject);
  if (!subject) throw new RemotingError('acl without a subject');
  const policies = (Array.isArray(o.policies) ? o.policies : []).map((rp): AclPolicy => {
    const p = asObject(rp, 'acl policy');
    const entries = (Array.isArray(p.entries) ? p.entries : []).map((re): AclEntry => {
      const e = asObject(re, 'acl entry');
      const entry: AclEntry = {
        resource: str(e.resource) ?? '',
        actions: stringList(e.actions).map((a) => oneOf(a, ACTIONS, 'action')),
        decision: oneOf<AclDecision>(str(e.decision) ?? '', ['Allow', 'Deny'], 'decision'),
      };
      const ips = stringList(e.sourceIps);
      if (ips.length > 0) entry.sourceIps = ips;
      return entry;
    });
    const policy: AclPolicy = { entries };
    const type = str(p.policyType);
    if (type !== undefined) policy.policyType = oneOf<PolicyType>(type, ['Custom', 'Default'], 'policyType');
    return policy;
  });
  return { subject, policies };
}
