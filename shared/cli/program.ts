// `ferry`: the command line over the HTTP API. Commander parses; every command is one or two API
// calls; run() turns every outcome into one exit code (the table is EXIT below and in --help).
import { readFile } from 'node:fs/promises';
import { Argument, Command, CommanderError, Option } from 'commander';
import { FerryError } from '../errors.ts';
import { ApiClient, ApiError, UNEXPECTED_RESPONSE, UnreachableError, type ResponseCheck } from '../api/client.ts';
import type { TaskView } from '../api/contract.ts';
import { MustStop, applyTask } from './apply.ts';
import { parseTime, parseTimeoutSeconds, parseUrl } from './args.ts';
import { SHELLS, completionScript, type Shell } from './completion.ts';
import { type Confirm, consent, terminalConfirm } from './confirm.ts';
import { registerFailoverCommand } from './failover-command.ts';
import { registerOperatorCommands } from './operator-commands.ts';
import { taskWideTable } from './operator-views.ts';
import { OUTPUT_FORMATS, type OutputFormat, prepareOutput, render } from './output.ts';
import { metricsView, offsetsView, previewView, taskDetails, taskTable } from './views.ts';
import { waitForRunning } from './wait.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, unauthenticated: 4 } as const;

export const DEFAULT_URL = 'http://127.0.0.1:3000';

const EXIT_HELP = `
Exit codes:
  0  success
  1  the API refused the request (its code and message are printed), the task file is invalid,
     apply found the task running (stop it first), or --wait ended without the task running
     (start_failed with its reason, stopped, or --timeout)
  2  usage error: unknown command or option, missing or malformed argument
  3  the API could not be reached at --url (refused, DNS, no answer within 30s)
  4  unauthenticated: no token, or an unknown or revoked one

Environment:
  FERRY_URL    the API base URL (instead of --url)
  FERRY_TOKEN  the API token (instead of --token)`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Reads the task file; "-" means standard input. */
  readInput: (path: string) => Promise<string>;
  /** Asks yes/no on a terminal; absent without one (then destructive commands need --yes). */
  confirm?: Confirm | undefined;
}

/** A failure the CLI itself reports (not an API error): message and exit code. */
class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Globals {
  url: string;
  token?: string;
  json?: boolean;
  output?: OutputFormat;
}

const formatOf = (g: Partial<Globals>): OutputFormat => g.output ?? (g.json ? 'json' : 'table');

export async function run(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return report(err, io, program.opts<Globals>());
  }
}

function report(err: unknown, io: CliIo, g: Partial<Globals>): number {
  // Commander has already printed its message (or the help).
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof UnreachableError) {
    io.stderr(`ferry: ${err.message}; is Ferry running there? (set --url or FERRY_URL)\n`);
    return EXIT.unreachable;
  }
  if (err instanceof ApiError || err instanceof FerryError) {
    const field = err.field ? ` (field: ${err.field})` : '';
    const hint =
      err.code === 'UNAUTHENTICATED' && !g.token
        ? ' — no token given: pass --token or set FERRY_TOKEN'
        : err instanceof ApiError && (err.code === `HTTP_${err.status}` || err.code === UNEXPECTED_RESPONSE)
          ? ' — is --url a Ferry API?'
          : '';
    io.stderr(`ferry: ${err.code}: ${err.message}${field}${hint}\n`);
    return err.code === 'UNAUTHENTICATED' ? EXIT.unauthenticated : EXIT.failed;
  }
  if (err instanceof MustStop) {
    io.stderr(`ferry: TASK_RUNNING: ${err.message}\n`);
    return EXIT.failed;
  }
  if (err instanceof CliFailure) {
    io.stderr(`ferry: ${err.message}\n`);
    return err.exitCode;
  }
  io.stderr(`ferry: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.failed;
}

/**
 * Every answer is checked against the API contract, so a server that is not (this version of)
 * Ferry fails with what is wrong instead of a confusing error further on. The contract brings zod,
 * loaded with the first answer: usage errors and --help do not wait for it.
 */
const checkResponse: ResponseCheck = async (operation, body) => (await import('../api/contract.ts')).checkResponse(operation, body);

export function buildProgram(io: CliIo): Command {
  const program = new Command('ferry')
    .description('Manage Ferry replication tasks over the HTTP API.')
    .addOption(new Option('--url <url>', 'Ferry API base URL').env('FERRY_URL').default(DEFAULT_URL).argParser(parseUrl))
    .addOption(new Option('--token <token>', 'API token (Authorization: Bearer)').env('FERRY_TOKEN'))
    .option('--json', 'print the API objects as JSON on stdout (for scripts; the same as -o json)')
    .addOption(
      new Option('-o, --output <format>', 'json or yaml: the API objects (for scripts); wide: tables with more columns').choices(
        OUTPUT_FORMATS,
      ),
    )
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (s, write) => write(`ferry: ${s.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('afterAll', EXIT_HELP);

  // Only -o yaml loads the YAML library, before the command runs, so printing stays synchronous.
  program.hook('preAction', (_program, action) => prepareOutput(formatOf(action.optsWithGlobals<Globals>())));

  const ctx = (cmd: Command) => {
    const g = cmd.optsWithGlobals<Globals>();
    const api = new ApiClient({ baseUrl: g.url, token: g.token, check: checkResponse });
    /** `human` for people, `json` the API objects (-o json / yaml), `wide` the -o wide table where there is one. */
    const out = (human: string, json: unknown, wide?: string) => io.stdout(render(formatOf(g), { human, wide, data: json }));
    return { g, api, out };
  };

  /** --yes, or a yes on the terminal; otherwise nothing is deleted. */
  const mustConfirm = async (cmd: Command, yes: boolean | undefined, question: string) => {
    const c = await consent(yes, io.confirm, question);
    if (c === 'no-terminal')
      cmd.error(`${question.replace(/\?$/, '')}: refusing without --yes (there is no terminal to ask on)`, { exitCode: EXIT.usage });
    if (c === 'declined') throw new CliFailure('not deleted', EXIT.failed);
  };

  /** --wait: progress to stderr, the final task to stdout, exit 1 with the reason if it does not run. */
  const finish = async (cmd: Command, task: TaskView, wait: { wait?: boolean; timeout: number }) => {
    const { api, out } = ctx(cmd);
    if (!wait.wait) return out(taskTable([task]), task);
    const r = await waitForRunning(api, task, { timeoutMs: wait.timeout * 1000, progress: (l) => io.stderr(`${l}\n`) });
    out(taskTable([r.task]), r.task);
    if (!r.ok) throw new CliFailure(r.reason, EXIT.failed);
  };

  const waitOptions = (c: Command) =>
    c
      .option('--wait', 'wait until the task is running, printing progress to stderr')
      .addOption(new Option('--timeout <seconds>', 'how long --wait waits').default(120).argParser(parseTimeoutSeconds));

  program
    .command('apply')
    .description(
      'create the task of a JSON definition, or update the task of that name to match it (stopped or start_failed only); ' +
        'says created, updated (with what changed) or unchanged',
    )
    .requiredOption('-f, --file <path>', 'task definition, JSON as in POST /v1/tasks ("-" reads stdin)')
    .action(async (opts: { file: string }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const body = await readTaskFile(io, opts.file);
      const { validateTask } = await import('./validate-task.ts');
      const r = await applyTask(api, body, validateTask(body));
      const what = r.action === 'updated' ? `: ${r.changed.join(', ')}` : '';
      out(`${r.action} ${r.task.id} (${r.task.name})${what}\n${taskTable([r.task])}`, r);
    });

  const tasks = program.command('tasks').description('list, create, start, stop, rename, reset and delete tasks');

  tasks
    .command('list')
    .description('list the tasks of your tenant')
    .option('--status <status>', 'only this status: initializing, running, stopping, stopped, start_failed, deleting')
    .option('--name <text>', 'only names containing this text')
    .action(async (opts: { status?: string; name?: string }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      // Every task, not the first page: the client follows the cursor.
      const items = await api.listAllTasks({ status: opts.status, name: opts.name });
      out(items.length ? taskTable(items) : 'No tasks.\n', items, items.length ? taskWideTable(items) : undefined);
    });

  tasks
    .command('get')
    .description('show one task: configuration, status with its reason, latest metrics')
    .argument('<id>', 'task id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const t = await api.getTask(id);
      out(taskDetails(t), t);
    });

  waitOptions(
    tasks
      .command('create')
      .description("create a task from a JSON definition (validated here with the API's own rules first)")
      .requiredOption('-f, --file <path>', 'task definition, JSON as in POST /v1/tasks ("-" reads stdin)')
      .option('--no-start', 'create it stopped'),
  ).action(async (opts: { file: string; start: boolean; wait?: boolean; timeout: number }, cmd: Command) => {
    if (opts.wait && !opts.start)
      cmd.error('--wait cannot be used with --no-start: a stopped task never reaches running', { exitCode: EXIT.usage });
    const { api } = ctx(cmd);
    const body = await readTaskFile(io, opts.file);
    if (!opts.start) body.start = false;
    const { validateTask } = await import('./validate-task.ts');
    const input = validateTask(body);
    if (opts.wait && !input.start) cmd.error(`--wait cannot be used with a task file that sets "start": false`, { exitCode: EXIT.usage });
    await finish(cmd, await api.createTask(body), opts);
  });

  tasks
    .command('preview')
    .description("what a task definition's topic and groups filters would take from its source cluster(s) now; creates nothing")
    .requiredOption('-f, --file <path>', 'task definition, JSON as in POST /v1/tasks; name optional ("-" reads stdin)')
    .action(async (opts: { file: string }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const p = await api.previewTask(await readTaskFile(io, opts.file));
      out(previewView(p), p);
    });

  waitOptions(tasks.command('start').description('start a stopped or start_failed task').argument('<id>', 'task id')).action(
    async (id: string, opts: { wait?: boolean; timeout: number }, cmd: Command) => {
      await finish(cmd, await ctx(cmd).api.startTask(id), opts);
    },
  );

  tasks
    .command('stop')
    .description('pause a task (replicators finish their batch and exit)')
    .argument('<id>', 'task id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const t = await api.stopTask(id);
      out(taskTable([t]), t);
    });

  tasks
    .command('rename')
    .description('rename a task (not while running; `ferry apply` edits the rest of a stopped task)')
    .argument('<id>', 'task id')
    .argument('<name>', 'the new name')
    .action(async (id: string, name: string, _opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const t = await api.renameTask(id, name);
      out(taskTable([t]), t);
    });

  tasks
    .command('reset-offset')
    .description('replay from a point in time at the next start (only while stopped)')
    .argument('<id>', 'task id')
    .addOption(
      new Option('--time <time>', 'ISO-8601 (without a zone: local time) or epoch milliseconds').argParser(parseTime).makeOptionMandatory(),
    )
    .action(async (id: string, opts: { time: number }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const t = await api.resetOffset(id, opts.time);
      out(taskTable([t]), t);
    });

  tasks
    .command('delete')
    .description('delete a task (not while running); asks first on a terminal, --yes elsewhere')
    .argument('<id>', 'task id')
    .option('-y, --yes', 'delete without asking')
    .action(async (id: string, opts: { yes?: boolean }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      await mustConfirm(cmd, opts.yes, `Delete task ${id}?`);
      await api.deleteTask(id);
      out(`Deleted ${id}.\n`, { id, deleted: true });
    });

  tasks
    .command('offsets')
    .description("consumer offset translation: each group's commit per source queue and where it stands on the target")
    .argument('<id>', 'task id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const r = await api.offsets(id);
      out(offsetsView(r.items), r);
    });

  program
    .command('metrics')
    .description('per-flow metrics of a task: the latest minute and totals over the range (default: the last hour)')
    .argument('<id>', 'task id')
    .addOption(new Option('--from <time>', 'range start: ISO-8601 or epoch milliseconds').argParser(parseTime))
    .addOption(new Option('--to <time>', 'range end: ISO-8601 or epoch milliseconds (default: now)').argParser(parseTime))
    .action(async (id: string, opts: { from?: number; to?: number }, cmd: Command) => {
      const { api, out } = ctx(cmd);
      const m = await api.metrics(id, opts);
      out(metricsView(id, m), m);
    });

  registerOperatorCommands(program, { ctx, mustConfirm });
  registerFailoverCommand(tasks, { ctx, mustConfirm });

  program
    .command('completion')
    .description('print a shell completion script: source <(ferry completion bash), or zsh')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(SHELLS))
    .action((shell: Shell) => io.stdout(completionScript(program, shell)));

  return program;
}

async function readTaskFile(io: CliIo, path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await io.readInput(path);
  } catch (err) {
    throw new CliFailure(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.failed);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new FerryError('VALIDATION_FAILED', `${path} is not valid JSON: ${(err as Error).message}`, 'body');
  }
  // Same words as the API for the same mistake.
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new FerryError('VALIDATION_FAILED', 'body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Node's standard streams and files. */
export function processIo(): CliIo {
  return {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    readInput: async (path) => (path === '-' ? readStdin() : readFile(path, 'utf8')),
    confirm: terminalConfirm(),
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
