import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startPipeline, type Pipeline } from './harness.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOOKS = join(REPO_ROOT, 'e2e', 'contract-fuzz.hooks.py');

/** Test cases per operation and phase: ~1,500–2,500 requests in all, 20–40 s on 2 cores. */
const MAX_EXAMPLES = 20;
/** The whole schemathesis run is stopped past this (and the test fails). */
const WALL_CLOCK_MS = 150_000;
/** The provider the pipeline configures (the harness's fake OpenAI); see contract-fuzz.hooks.py. */
const PROVIDERS = 'openai';
/** Where schema-valid webhook targets point: allowlisted, and nothing listens (no dispatcher runs). */
const WEBHOOK_URL = 'http://127.0.0.1/contract-fuzz';

/** What schemathesis's JSON report says about a run (the fields read here). */
interface Report {
  seed: number | string;
  exit_code: number;
  running_time: number;
  phases: Record<string, { status: string; skip_reason: string | null }>;
  test_cases: { generated: number; with_failures: number; unique_failures: number; errored: number };
  filtered: number;
  errors: unknown[];
}

/**
 * The OpenAPI document is the contract, and a fuzzer holds the API to it: schemathesis (from PyPI,
 * installed by scripts/schemathesis.sh; `npm test` exports its path as SCHEMATHESIS) loads
 * /openapi.json, generates valid and invalid requests for every operation (examples, coverage,
 * fuzzing, then the stateful phase, which follows the document's links: create, read, cancel),
 * and runs every check it has: no 5xx, every status and body as documented, valid requests
 * accepted, invalid ones refused, undeclared methods answered 405 with Allow, authentication
 * enforced, created resources readable.
 *
 * No check is excluded. What the fuzzer cannot know from a document is said in
 * contract-fuzz.hooks.py, each rule with its reason:
 * - options.provider: the names the processor is configured with are deployment configuration,
 *   so schema-valid cases name the test's (`openai`);
 * - webhook_url: schema-valid cases point at an allowlisted loopback receiver, so the API resolves
 *   no generated host names (the rule for hosts that do not resolve is tested below);
 * - failures dropped (counted in the report's `filtered`) where a check's assumption meets
 *   documented behaviour:
 *   - a template's parameters are the stored template's: 400 naming `template.parameters.*`;
 *   - a caller's JSON Schema must compile: one that is not a valid JSON Schema (a free-form
 *     object in the document, which cannot carry the meta-schema) is refused with 400
 *     INVALID_SCHEMA;
 *   - a body with a `__proto__` key or a `constructor.prototype` is refused (prototype-poisoning
 *     defence, in the document's description; JSON Schema cannot forbid a key inside a caller's
 *     free-form JSON Schema);
 *   - a 404 naming a body reference (`schema_ref`, `template`) is not "the created resource is
 *     gone";
 *   - DELETE /v1/jobs/{id} cancels: the job stays readable, with status `cancelled`;
 *   - an invalid key past the per-address limit of failed authentications is answered 429, not
 *     401 (refused all the same).
 * And `--generation-allow-x00 false`: U+0000 is refused everywhere (the text-hygiene rule, in the
 * document's description), which JSON Schema cannot state for property names and free-form values.
 */
describe('contract: the OpenAPI document, fuzzed with schemathesis', () => {
  let pipeline: Pipeline;
  let schemathesis: string;
  let workDir: string;

  beforeAll(async () => {
    schemathesis = process.env.SCHEMATHESIS || (await installSchemathesis());
    workDir = await mkdtemp(join(tmpdir(), 'sps-contract-fuzz-'));
    pipeline = await startPipeline({
      apps: ['sink', 'processor', 'ingest-api'],
      env: { WEBHOOK_ALLOWLIST: '127.0.0.1' },
      rateLimitPerHour: 1_000_000,
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('finds no failure in any operation, with every check on', async () => {
    const reportPath = join(workDir, 'report.json');
    const started = Date.now();
    const run = await runBounded(
      schemathesis,
      [
        'run',
        `${pipeline.baseUrl}/openapi.json`,
        '--checks',
        'all',
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--workers',
        '1',
        '--generation-allow-x00',
        'false',
        '--request-timeout',
        '30',
        '--header',
        `Authorization: Bearer ${pipeline.apiKey}`,
        '--report',
        'json',
        '--report-json-path',
        reportPath,
        '--no-color',
      ],
      {
        // Its example database and report folder are written to the working directory.
        cwd: workDir,
        env: {
          ...process.env,
          SCHEMATHESIS_HOOKS: HOOKS,
          SPS_FUZZ_PROVIDERS: PROVIDERS,
          SPS_FUZZ_WEBHOOK_URL: WEBHOOK_URL,
        },
      },
      WALL_CLOCK_MS,
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const output = `schemathesis output (last 12000 characters):\n${run.output.slice(-12_000)}`;
    expect(run.timedOut, `schemathesis ran past ${WALL_CLOCK_MS / 1000} s\n${output}`).toBe(false);
    const report = JSON.parse(
      await readFile(reportPath, 'utf8').catch((error: unknown) => {
        throw new Error(`schemathesis wrote no report (exit ${run.code})\n${output}`, { cause: error });
      }),
    ) as Report;
    console.info(
      `schemathesis: ${report.test_cases.generated} cases generated, ` +
        `${report.test_cases.unique_failures} unique failures, ${report.filtered} dropped by the ` +
        `hooks' documented rules, in ${seconds} s (seed ${report.seed})`,
    );
    expect(report.test_cases.generated).toBeGreaterThan(500);
    expect(
      Object.fromEntries(Object.entries(report.phases).map(([phase, { status }]) => [phase, status])),
      output,
    ).toEqual({ examples: 'success', coverage: 'success', fuzzing: 'success', stateful: 'success' });
    expect(
      {
        exit: run.code,
        failures: report.test_cases.unique_failures,
        errored: report.test_cases.errored,
        errors: report.errors.length,
      },
      output,
    ).toEqual({ exit: 0, failures: 0, errored: 0, errors: 0 });
  }, 200_000);

  it('accepts a webhook host that does not resolve (checked again before every delivery)', async () => {
    // `.invalid` never resolves (RFC 6761): the document says such a target is accepted, since
    // DNS may answer later and every delivery checks the target again.
    const response = await fetch(`${pipeline.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pipeline.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        job_type: 'analyze',
        request_params: { prompt: 'hello' },
        webhook_url: 'https://hooks.sps-contract-fuzz.invalid/job',
      }),
    });
    expect(response.status, JSON.stringify(await json(response.clone()))).toBe(202);
  });
});

/** scripts/schemathesis.sh: installs (once) and prints the executable's path. */
async function installSchemathesis(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'schemathesis.sh')], {
    cwd: REPO_ROOT,
    timeout: 300_000,
  });
  return stdout.trim();
}

/** Runs a command to its end or until `timeoutMs` (then SIGTERM, and SIGKILL 5 s later). */
function runBounded(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
  timeoutMs: number,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}
