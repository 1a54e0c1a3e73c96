import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from './harness.js';

const BIN = fileURLToPath(new URL('../libs/sdk/bin/sps.mjs', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `sps` bin as a user would, with its own environment (no key or address inherited). */
function sps(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { SPS_API_KEY: _key, SPS_BASE_URL: _url, ...rest } = process.env;
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...rest, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const PROGRESS = /^batch (\d+)\/(\d+) ok (\d+) failed (\d+) skipped (\d+) /;
const progressLines = (stderr: string) =>
  stderr
    .split('\n')
    .map((line) => PROGRESS.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ done: +m[1]!, total: +m[2]!, ok: +m[3]!, failed: +m[4]!, skipped: +m[5]! }));

describe('the sps CLI against the real pipeline (Kafka, Postgres, Redis; fake provider)', () => {
  let pipeline: Pipeline;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    pipeline = await startPipeline({ rateLimitPerHour: 10_000 });
    env = { SPS_API_KEY: pipeline.apiKey, SPS_BASE_URL: pipeline.baseUrl };
    dir = await mkdtemp(join(tmpdir(), 'sps-cli-'));
  });
  afterAll(async () => {
    await pipeline?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a 200-prompt JSONL batch with progress and a summary, then resumes: all skipped', async () => {
    const run = randomUUID();
    const schema = {
      type: 'object',
      properties: { item: { type: 'string' }, qty: { type: 'integer' } },
      required: ['item', 'qty'],
    };
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify(
        i % 4 === 0
          ? `plain prompt ${i} ${run}`
          : { id: `p${i}`, prompt: `order ${i} widgets ${run}`, schema },
      ),
    );
    const input = join(dir, 'batch.jsonl');
    const out = join(dir, 'results.jsonl');
    await writeFile(input, `${lines.join('\n')}\n`);

    const args = [
      'batch',
      input,
      '--out',
      out,
      '--concurrency',
      '16',
      '--progress',
      'lines',
      '--progress-every',
      '20',
    ];
    const first = await sps(args, env);
    expect(first.code, first.stderr).toBe(0);
    const progress = progressLines(first.stderr);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
      expect(progress[i]!.ok).toBeGreaterThanOrEqual(progress[i - 1]!.ok);
    }
    expect(progress.every((p) => p.total === 200)).toBe(true);
    expect(progress.at(-1)).toEqual({ done: 200, total: 200, ok: 200, failed: 0, skipped: 0 });
    expect(first.stderr).toMatch(/summary: total 200, ok 200, failed 0, skipped 0 in \d+\.\d+s/);

    const records = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            line: number;
            id?: string;
            ok: boolean;
            data: { item?: string; qty?: number };
            request_id: string;
          },
      );
    expect(records).toHaveLength(200);
    expect(new Set(records.map((r) => r.line)).size).toBe(200);
    expect(records.every((r) => r.ok && r.request_id)).toBe(true);
    const withSchema = records.filter((r) => r.id !== undefined);
    expect(withSchema).toHaveLength(150);
    expect(withSchema.every((r) => typeof r.data.item === 'string' && Number.isInteger(r.data.qty))).toBe(
      true,
    );

    // Resumable: everything answered is skipped, nothing is sent or written again.
    const again = await sps([...args, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 200, ok: 0, failed: 0, skipped: 200 });
    expect(again.stderr).toMatch(/summary: total 200, ok 0, failed 0, skipped 200/);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(200);

    // An interrupted run (the output cut short) resumes with the lines it lacks.
    const kept = (await readFile(out, 'utf8')).trim().split('\n').slice(0, 150);
    await writeFile(out, `${kept.join('\n')}\n{"line": 7, "ok": tr`); // and a torn last line
    const resumed = await sps(args, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/summary: total 200, ok 50, failed 0, skipped 150/);
    expect(progressLines(resumed.stderr).at(-1)).toEqual({
      done: 200,
      total: 200,
      ok: 50,
      failed: 0,
      skipped: 150,
    });
  }, 180_000);

  it('analyze: the prompt from stdin, --json prints the whole response; schema from a file', async () => {
    const schemaFile = join(dir, 'schema.json');
    await writeFile(
      schemaFile,
      JSON.stringify({
        type: 'object',
        properties: { restaurant: { type: 'string' }, people: { type: 'integer' } },
        required: ['restaurant', 'people'],
      }),
    );
    const result = await sps(
      ['analyze', '--schema', schemaFile, '--json'],
      env,
      `Book a table for two at Luigi ${randomUUID()}\n`,
    );
    expect(result.code, result.stderr).toBe(0);
    const response = JSON.parse(result.stdout);
    expect(response).toMatchObject({ validation_status: 'passed', request_id: expect.any(String) });
    expect(typeof response.data.restaurant).toBe('string');
    expect(Number.isInteger(response.data.people)).toBe(true);

    const plain = await sps(
      ['analyze', `a prompt as an argument ${randomUUID()}`, '--schema', schemaFile],
      env,
    );
    expect(plain.code, plain.stderr).toBe(0);
    expect(Object.keys(JSON.parse(plain.stdout)).sort()).toEqual(
      expect.arrayContaining(['people', 'restaurant']),
    );
  });

  it('jobs submit --wait, jobs list, schemas and templates push/list, cache purge', async () => {
    const submitted = await sps(
      ['jobs', 'submit', `job a ${randomUUID()}`, `job b ${randomUUID()}`, '--wait', '--json'],
      env,
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const job = JSON.parse(submitted.stdout);
    expect(job).toMatchObject({ status: 'completed', progress: { total: 2, completed: 2, failed: 0 } });
    const listed = await sps(['jobs', 'list', '--limit', '5'], env);
    expect(listed.stdout).toContain(job.job_id);
    const watched = await sps(['jobs', 'watch', job.job_id], env);
    expect(watched.code).toBe(0);
    expect(watched.stderr).toContain('completed: 2 ok, 0 failed of 2');

    const schemaFile = join(dir, 'order.json');
    await writeFile(
      schemaFile,
      JSON.stringify({ type: 'object', properties: { item: { type: 'string' } }, required: ['item'] }),
    );
    const name = `order-${randomUUID().slice(0, 8)}`;
    expect((await sps(['schemas', 'push', name, schemaFile], env)).stdout).toContain(`${name} version 1`);
    expect((await sps(['schemas', 'push', name, schemaFile], env)).stdout).toContain(`${name} version 2`);
    expect((await sps(['schemas', 'list'], env)).stdout).toContain(name);
    const template = await sps(
      ['templates', 'push', `${name}-t`, '--text', 'Order: {{text}}', '--schema-ref', name],
      env,
    );
    expect(template.stdout).toContain('parameters: text');
    expect(
      JSON.parse((await sps(['templates', 'list', '--json'], env)).stdout).map(
        (t: { name: string }) => t.name,
      ),
    ).toContain(`${name}-t`);
    const purge = await sps(['cache', 'purge'], env);
    expect(purge.code, purge.stderr).toBe(0);
    expect(purge.stdout).toMatch(/^deleted \d+/);
  });

  it('exit codes: 2 for usage errors, 3 for a refused or missing key, 4 when the service is unreachable', async () => {
    const noOut = await sps(['batch', join(dir, 'batch.jsonl')], env);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain("required option '-o, --out <results.jsonl>'");
    expect((await sps(['frobnicate'], env)).code).toBe(2);
    const badInput = join(dir, 'bad.jsonl');
    await writeFile(badInput, '"fine"\n{"no_prompt": 1}\n');
    const bad = await sps(['batch', badInput, '--out', join(dir, 'bad-out.jsonl')], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.jsonl:2');

    const help = await sps(['batch', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');

    const badKey = await sps(['analyze', 'hello'], { ...env, SPS_API_KEY: 'sk_not_a_real_key' });
    expect(badKey.code).toBe(3);
    expect(badKey.stderr).toMatch(/error UNAUTHORIZED \[401\]/);
    const noKey = await sps(['analyze', 'hello'], { SPS_BASE_URL: pipeline.baseUrl });
    expect(noKey.code).toBe(3);
    const down = await sps(['analyze', 'hello', '--base-url', 'http://127.0.0.1:9', '--retries', '1'], env);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('NETWORK_ERROR');
  });
});
