// The operator's commands beside `tasks`: parked messages (list, retry), metadata sync outcomes,
// the audit trail, and the tenant's API tokens. Each is one API call; -o json|yaml prints the API
// object, -o wide the longer table where there is one.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ApiClient } from '../api/client.ts';
import { eventsTable, failuresTable, metadataTable, tokenIssued, tokensTable } from './operator-views.ts';

export interface CommandContext {
  ctx: (cmd: Command) => { api: ApiClient; out: (human: string, json: unknown, wide?: string) => void };
  /** Resolves when deleting may go ahead (--yes, or yes on a terminal); fails otherwise. */
  mustConfirm: (cmd: Command, yes: boolean | undefined, question: string) => Promise<void>;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000.');
  return n;
}

export function registerOperatorCommands(program: Command, { ctx, mustConfirm }: CommandContext): void {
  const failures = program.command('failures').description('parked messages of a task: list them, retry them');

  failures
    .command('list')
    .description('messages the task could not deliver, oldest first (no bodies unless --payload)')
    .argument('<id>', 'task id')
    .addOption(new Option('--limit <n>', 'at most this many (1..1000)').default(100).argParser(parseLimit))
    .option('--payload', 'include each message body (base64; with -o json or yaml)')
    .action(async (id: string, opts: { limit: number; payload?: boolean }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const r = await api.failures(id, { limit: opts.limit, includePayload: opts.payload });
      out(failuresTable(r.items), r, failuresTable(r.items, true));
    });

  failures
    .command('retry')
    .description("re-queue the task's parked messages: a running replicator sends them again")
    .argument('<id>', 'task id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const r = await api.retryFailures(id);
      out(`Requested a retry of ${r.requested} parked message${r.requested === 1 ? '' : 's'} of ${id}.\n`, r);
    });

  program
    .command('metadata')
    .description('metadata sync of a task: each topic, group and ACL item with its last action and outcome')
    .argument('<id>', 'task id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const r = await api.metadata(id);
      out(metadataTable(r.items), r);
    });

  program
    .command('events')
    .description('audit trail of a task: who did what when, newest first (-o wide: what changed)')
    .argument('<id>', 'task id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const r = await api.events(id);
      out(eventsTable(r.items), r, eventsTable(r.items, true));
    });

  const tokens = program.command('tokens').description("your tenant's API tokens (admin tokens only): list, create, revoke");

  tokens
    .command('list')
    .description('every token of your tenant, revoked ones included (ids and labels, never the tokens)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const r = await api.listTokens();
      out(tokensTable(r.items), r);
    });

  tokens
    .command('create')
    .description('mint a token in your tenant; it is printed this once')
    .addOption(new Option('--role <role>', 'admin (read and write) or reader (read only)').choices(['admin', 'reader']).default('reader'))
    .option('--label <text>', 'what the token is for (shown in lists and the audit trail)')
    .option('--expires-in-days <days>', 'refused after this many days (default: never)', Number)
    .action(async (opts: { role: 'admin' | 'reader'; label?: string; expiresInDays?: number }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const t = await api.createToken({
        role: opts.role,
        ...(opts.label === undefined ? {} : { label: opts.label }),
        ...(opts.expiresInDays === undefined ? {} : { expiresInDays: opts.expiresInDays }),
      });
      out(tokenIssued(t), t);
    });

  tokens
    .command('revoke')
    .description('revoke a token of your tenant by its id (from `ferry tokens list`); asks first on a terminal, --yes elsewhere')
    .argument('<id>', 'token id')
    .option('-y, --yes', 'revoke without asking')
    .action(async (id: string, opts: { yes?: boolean }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      await mustConfirm(cmd, opts.yes, `Revoke token ${id}?`);
      await api.deleteToken(id);
      out(`Revoked token ${id}.\n`, { id, revoked: true });
    });
}
