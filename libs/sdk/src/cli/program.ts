import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_BASE_URL, SpsClient, isTerminal, type Job, type JobBody } from '../client.js';
import type { RetryInfo } from '../retry.js';
import { runBatch } from './batch.js';
import { EXIT, UsageError, describeError, exitCodeOf } from './exit-codes.js';
import { Progress } from './progress.js';

export interface Io {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

interface Globals {
  apiKey?: string;
  baseUrl: string;
  retries: number;
  quiet?: boolean;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  a request failed (or some batch lines failed)
  2  usage error (bad arguments or input file; nothing was sent)
  3  authentication: no API key, or the key was refused (401/403)
  4  service unavailable, unreachable or rate-limited after retries (503/429): try later

Environment: SPS_API_KEY (or --api-key), SPS_BASE_URL (or --base-url; default ${DEFAULT_BASE_URL}).`;

/** Runs `sps` with `argv` (without node and the script); resolves with the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const print = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const say = (text: string) => io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  const json = (value: unknown) => print(JSON.stringify(value, null, 2));
  let code: number = EXIT.ok;

  const program = new Command('sps')
    .description('Structured Prompt Service: prompts in, validated structured JSON out')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addOption(new Option('--api-key <key>', 'API key (sk_…)').env('SPS_API_KEY'))
    .addOption(
      new Option('--base-url <url>', 'service address').env('SPS_BASE_URL').default(DEFAULT_BASE_URL),
    )
    .addOption(new Option('--retries <n>', 'attempts on 429/503 in all').argParser(positiveInt).default(4))
    .option('-q, --quiet', 'no progress or retry notes on stderr')
    .addHelpText('after', EXIT_CODES_HELP);
  // Commander reads env through process.env: hand it ours.
  const restoreEnv = swapEnv(io.env);

  const clientFor = (command: Command): SpsClient => {
    const globals = command.optsWithGlobals<Globals>();
    if (!globals.apiKey) throw new MissingKey();
    return new SpsClient({
      apiKey: globals.apiKey,
      baseUrl: globals.baseUrl,
      userAgent: 'sps-cli/0.1',
      retry: {
        maxAttempts: globals.retries,
        onRetry: (info: RetryInfo) => {
          if (!globals.quiet)
            say(
              `retry: ${info.status} on ${info.method} ${new URL(info.url).pathname}, waiting ${info.delayMs} ms`,
            );
        },
      },
    });
  };
  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) =>
    async (...args: A) => {
      code = (await fn(...args)) ?? EXIT.ok;
    };

  program
    .command('analyze')
    .description('analyse one prompt (from the argument, --file, or stdin) and print the validated data')
    .argument('[prompt]', 'the prompt ("-" or nothing: read stdin)')
    .option('-f, --file <path>', 'read the prompt from a file')
    .option('-s, --schema <file.json>', 'JSON Schema the answer must satisfy')
    .option('--schema-ref <name[@version]>', 'a registered schema instead of --schema')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'xml']))
    .option('--options <json>', 'request options as JSON, e.g. \'{"bypass_cache":true}\'')
    .option('--json', 'print the whole response (data, request id, provider, validation status…)')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(
      action(async (prompt: string | undefined, opts, command: Command) => {
        const text = await promptFrom(prompt, opts.file, io);
        if (opts.schema && opts.schemaRef) throw new UsageError('give --schema or --schema-ref, not both');
        const client = clientFor(command);
        const answer = await client.analyze({
          prompt: text,
          ...(opts.schema ? { schema: await jsonFile(opts.schema) } : {}),
          ...(opts.schemaRef ? { schema_ref: nameVersion(opts.schemaRef) } : {}),
          ...(opts.format ? { format: opts.format } : {}),
          ...(opts.options ? { options: jsonArg(opts.options, '--options') } : {}),
        } as Parameters<SpsClient['analyze']>[0]);
        if (opts.json) json(answer);
        else if (typeof answer.data === 'string') print(answer.data);
        else json(answer.data);
      }),
    );

  program
    .command('batch')
    .description('run a JSONL file of prompts, appending one result line per input line to --out (resumable)')
    .argument(
      '<input.jsonl>',
      'one prompt per line: "text" or {"prompt", "schema"?, "options"?, "format"?, "id"?}',
    )
    .requiredOption('-o, --out <results.jsonl>', 'output file; lines already answered in it are skipped')
    .addOption(new Option('-c, --concurrency <n>', 'requests in flight').argParser(positiveInt).default(8))
    .option('-s, --schema <file.json>', 'JSON Schema for lines that give none')
    .option('--options <json>', "request options for every line (a line's own win)")
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'xml']))
    .addOption(
      new Option('--progress <mode>', 'bar (terminal), lines (plain, periodic), none')
        .choices(['auto', 'bar', 'lines', 'none'])
        .default('auto'),
    )
    .addOption(
      new Option('--progress-every <ms>', 'plain progress lines at most this often')
        .argParser(positiveInt)
        .default(2000),
    )
    .option('--json', 'print the summary as JSON on stdout')
    .addHelpText(
      'after',
      `
Output lines: {"line", "id"?, "ok": true, "request_id", "data", "validation_status", …} or
{"line", "id"?, "ok": false, "error": {"code", "message", "status"}}. A re-run skips the lines the
output already answers successfully (matched by "id" when the input line has one, else by line
number) and runs the failed ones again. Progress goes to stderr; the summary too (or --json).
${EXIT_CODES_HELP}`,
    )
    .action(
      action(async (input: string, opts, command: Command) => {
        const globals = command.optsWithGlobals<Globals>();
        const client = clientFor(command);
        const summary = await runBatch(client, {
          input,
          out: opts.out,
          concurrency: opts.concurrency,
          ...(opts.schema ? { schema: await jsonFile(opts.schema) } : {}),
          ...(opts.options ? { options: jsonArg(opts.options, '--options') as Record<string, unknown> } : {}),
          ...(opts.format ? { format: opts.format } : {}),
          progress: {
            stream: io.stderr,
            mode: globals.quiet ? 'none' : opts.progress,
            everyMs: opts.progressEvery,
          },
        });
        say(
          `summary: total ${summary.total}, ok ${summary.ok}, failed ${summary.failed}, skipped ${summary.skipped} ` +
            `in ${summary.seconds.toFixed(1)}s → ${summary.out}`,
        );
        if (opts.json) json(summary);
        return summary.failed > 0 ? EXIT.failed : EXIT.ok;
      }),
    );

  const jobs = program.command('jobs').description('asynchronous jobs: submit, watch, list');
  jobs.addHelpText('after', EXIT_CODES_HELP);
  jobs
    .command('submit')
    .description('submit a job of one prompt or many (arguments, or --file with one per line)')
    .argument('[prompts...]', 'prompts')
    .option('-f, --file <path>', 'prompts, one per line (plain text, a JSON string, or {"prompt"})')
    .option('-s, --schema <file.json>', 'JSON Schema the answers must satisfy')
    .option('--options <json>', 'request options as JSON')
    .option('--webhook-url <url>', 'where the signed outcome is POSTed')
    .option('--idempotency-key <key>', 'the same key answers the same job')
    .option('-w, --wait', 'then watch it to the end (like jobs watch)')
    .option('--json', 'print the response as JSON')
    .action(
      action(async (prompts: string[], opts, command: Command) => {
        const all = [...prompts, ...(opts.file ? await promptLines(opts.file) : [])];
        if (all.length === 0) throw new UsageError('give at least one prompt (arguments or --file)');
        const client = clientFor(command);
        const params = {
          ...(opts.schema ? { schema: await jsonFile(opts.schema) } : {}),
          ...(opts.options ? { options: jsonArg(opts.options, '--options') } : {}),
        };
        const body = {
          job_type: all.length === 1 ? 'analyze' : 'batch',
          request_params: all.length === 1 ? { ...params, prompt: all[0] } : { ...params, prompts: all },
          ...(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}),
        } as JobBody;
        const accepted = await client.jobs.submit(body, { idempotencyKey: opts.idempotencyKey });
        if (!opts.wait) {
          if (opts.json) json(accepted);
          else print(accepted.job_id);
          return;
        }
        if (!opts.json) say(`job ${accepted.job_id} submitted`);
        return watch(client, accepted.job_id, {
          json: opts.json,
          quiet: command.optsWithGlobals<Globals>().quiet,
        });
      }),
    );
  jobs
    .command('watch')
    .description('follow a job until it ends, with progress; exit 0 when it completed, 1 otherwise')
    .argument('<job-id>')
    .addOption(
      new Option('--timeout <seconds>', 'give up after (exit 1)').argParser(positiveInt).default(600),
    )
    .option('--json', 'print the final job as JSON')
    .action(
      action(async (id: string, opts, command: Command) =>
        watch(clientFor(command), id, {
          json: opts.json,
          timeoutMs: opts.timeout * 1000,
          quiet: command.optsWithGlobals<Globals>().quiet,
        }),
      ),
    );
  jobs
    .command('list')
    .description('list jobs, newest first')
    .addOption(new Option('--limit <n>', 'jobs per page').argParser(positiveInt).default(20))
    .option('--cursor <cursor>', 'the next_cursor of a previous page')
    .option('--json', 'print the page as JSON')
    .action(
      action(async (opts, command: Command) => {
        const page = await clientFor(command).jobs.list({
          limit: opts.limit,
          ...(opts.cursor ? { cursor: opts.cursor } : {}),
        });
        if (opts.json) return void json(page);
        for (const job of page.jobs) {
          const { completed, failed, total } = job.progress;
          print(
            `${job.job_id}  ${job.status.padEnd(10)} ${completed + failed}/${total} (failed ${failed})  ${job.created_at}`,
          );
        }
        if (page.next_cursor) say(`more: --cursor ${page.next_cursor}`);
      }),
    );

  const registry = (kind: 'schemas' | 'templates') => {
    const group = program.command(kind).description(`the ${kind.slice(0, -1)} registry: push, list`);
    group.addHelpText('after', EXIT_CODES_HELP);
    const push = group
      .command('push')
      .argument('<name>')
      .option('-d, --description <text>')
      .option('--json', 'print the stored record as JSON');
    if (kind === 'schemas') {
      push
        .description('register a JSON Schema (a new version when the name exists)')
        .argument('<file.json>', 'the JSON Schema')
        .action(
          action(async (name: string, file: string, opts, command: Command) => {
            const record = await clientFor(command).schemas.push({
              name,
              schema: await jsonFile(file),
              ...(opts.description ? { description: opts.description } : {}),
            });
            if (opts.json) json(record);
            else print(`${record.name} version ${record.version}`);
          }),
        );
    } else {
      push
        .description('register a prompt template with {{parameters}} (a new version when the name exists)')
        .argument('[file]', 'the template text (or --text)')
        .option('-t, --text <template>', 'the template text')
        .option('--schema-ref <name[@version]>', 'the registered schema its answers satisfy')
        .action(
          action(async (name: string, file: string | undefined, opts, command: Command) => {
            if (!file === !opts.text)
              throw new UsageError('give the template as a file or --text (one of them)');
            const template = opts.text ?? (await textFile(file!));
            const record = await clientFor(command).templates.push({
              name,
              template,
              ...(opts.schemaRef ? { schema_ref: nameVersion(opts.schemaRef) } : {}),
              ...(opts.description ? { description: opts.description } : {}),
            });
            if (opts.json) json(record);
            else
              print(
                `${record.name} version ${record.version} parameters: ${record.parameters.join(', ') || '(none)'}`,
              );
          }),
        );
    }
    group
      .command('list')
      .description(`list the ${kind}`)
      .option('--json', 'print them as JSON')
      .action(
        action(async (opts, command: Command) => {
          const client = clientFor(command);
          const records = kind === 'schemas' ? await client.schemas.list() : await client.templates.list();
          if (opts.json) return void json(records);
          for (const r of records) print(`${r.name}  v${r.version}  ${r.description ?? ''}`.trimEnd());
        }),
      );
  };
  registry('schemas');
  registry('templates');

  program
    .command('cache')
    .description('the response cache')
    .addHelpText('after', EXIT_CODES_HELP)
    .command('purge')
    .description("delete this tenant's cached answers (all, or those of a schema or template)")
    .option('--schema <name>', 'only answers filed under this registered schema')
    .option('--template <name>', 'only answers filed under this template')
    .option('--json', 'print the response as JSON')
    .action(
      action(async (opts, command: Command) => {
        const purged = await clientFor(command).cache.purge({
          ...(opts.schema ? { schema: opts.schema } : {}),
          ...(opts.template ? { template: opts.template } : {}),
        });
        if (opts.json) json(purged);
        else print(`deleted ${purged.deleted}`);
      }),
    );

  async function watch(
    client: SpsClient,
    id: string,
    opts: { json?: boolean; timeoutMs?: number; quiet?: boolean },
  ): Promise<number> {
    const progress = new Progress({
      stream: io.stderr,
      label: `job ${id}`,
      mode: opts.quiet ? 'none' : 'auto',
    });
    const job: Job = await client.jobs.wait(id, {
      timeoutMs: opts.timeoutMs ?? 600_000,
      onProgress: (view) =>
        progress.update({
          done: view.progress.completed + view.progress.failed,
          total: view.progress.total,
          ok: view.progress.completed,
          failed: view.progress.failed,
          skipped: 0,
        }),
    });
    progress.finish();
    if (opts.json) json(job);
    else
      say(
        `job ${id} ${job.status}: ${job.progress.completed} ok, ${job.progress.failed} failed of ${job.progress.total}`,
      );
    return job.status === 'completed' && isTerminal(job.status) ? EXIT.ok : EXIT.failed;
  }

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      const help = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code);
      return help ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof MissingKey) {
      say('error: no API key: set SPS_API_KEY or pass --api-key');
      return EXIT.auth;
    }
    say(describeError(error));
    return exitCodeOf(error);
  } finally {
    restoreEnv();
  }
}

class MissingKey extends Error {}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function jsonArg(text: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError(`${what} must be a JSON object`);
}

async function textFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

async function jsonFile(path: string): Promise<Record<string, unknown>> {
  return jsonArg(await textFile(path), path);
}

function nameVersion(ref: string): { name: string; version?: number } {
  const [name, version] = ref.split('@');
  if (!name || (version !== undefined && !/^\d+$/.test(version)))
    throw new UsageError(`bad reference ${ref}: name[@version]`);
  return { name, ...(version ? { version: Number(version) } : {}) };
}

async function promptFrom(prompt: string | undefined, file: string | undefined, io: Io): Promise<string> {
  if (prompt !== undefined && prompt !== '-' && file)
    throw new UsageError('give the prompt as an argument or --file, not both');
  let text: string;
  if (file) text = await textFile(file);
  else if (prompt !== undefined && prompt !== '-') text = prompt;
  else if (io.stdin.isTTY && prompt !== '-')
    throw new UsageError('no prompt: give it as an argument, --file, or on stdin');
  else text = await readAll(io.stdin);
  text = text.replace(/\r?\n$/, '');
  if (text.trim() === '') throw new UsageError('the prompt is empty');
  return text;
}

async function promptLines(file: string): Promise<string[]> {
  return (await textFile(file))
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value === 'string') return value;
        if (
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { prompt?: unknown }).prompt === 'string'
        )
          return (value as { prompt: string }).prompt;
      } catch {
        // plain text
      }
      return line;
    });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function swapEnv(env: NodeJS.ProcessEnv): () => void {
  if (env === process.env) return () => undefined;
  const saved = { ...process.env };
  for (const key of ['SPS_API_KEY', 'SPS_BASE_URL']) {
    if (env[key] === undefined) delete process.env[key];
    else process.env[key] = env[key];
  }
  return () => {
    for (const key of ['SPS_API_KEY', 'SPS_BASE_URL']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  };
}
