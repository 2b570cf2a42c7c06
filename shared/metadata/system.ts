// What metadata sync never touches, on either side: RocketMQ's own topics and groups and Ferry's
// own groups (the shared list in filter/system-resources.ts, which the replicator uses too), the
// topics brokers create with their cluster and broker names, and the ACL principals Ferry itself
// signs with — syncing those could change the password Ferry needs to reach the other cluster.
import { isSystemGroup, isSystemTopic } from '../filter/system-resources.ts';
import type { SyncKind } from './model.ts';

export interface SystemContext {
  /** Cluster and broker names of both clusters of the task. */
  reservedNames: ReadonlySet<string>;
  /** Access keys / usernames / Tencent role names Ferry signs with on either cluster. */
  ownPrincipals: ReadonlySet<string>;
}

/** True for items metadata sync must neither copy nor change nor delete. */
export function isNeverSynced(kind: SyncKind, name: string, ctx: SystemContext): boolean {
  switch (kind) {
    case 'topic':
      return isSystemTopic(name, ctx.reservedNames);
    case 'group':
      return isSystemGroup(name);
    case 'acl_user':
    case 'acl_account':
    case 'role':
      return ctx.ownPrincipals.has(name);
    case 'acl':
      return name.startsWith('User:') && ctx.ownPrincipals.has(name.slice('User:'.length));
  }
}
