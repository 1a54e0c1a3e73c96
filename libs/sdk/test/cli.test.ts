import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alreadyDone, readBatchInput } from '../src/cli/batch.js';
import { Progress } from '../src/cli/progress.js';
import { run } from '../src/cli/program.js';

function sink(isTTY = false) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = isTTY;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

async function cli(argv: string[], env: Record<string, string> = {}) {
  const stdout = sink();
  const stderr = sink();
  const code = await run(argv, {
    stdin: Readable.from([]),
    stdout: stdout.stream,
    stderr: stderr.stream,
    env,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('sps CLI pieces', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'sps-unit-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads JSONL lines as strings or objects, and names a bad line', async () => {
    const input = join(dir, 'in.jsonl');
    await writeFile(input, '"one"\n\n{"prompt": "two", "id": 7, "schema": {"type": "object"}}\n');
    expect(await readBatchInput(input)).toEqual([
      { line: 1, prompt: 'one' },
      { line: 3, id: '7', prompt: 'two', schema: { type: 'object' } },
    ]);
    await writeFile(input, '"one"\n{"prompt": 3}\n');
    await expect(readBatchInput(input)).rejects.toThrow(/in\.jsonl:2: needs a non-empty "prompt"/);
    await writeFile(input, 'not json\n');
    await expect(readBatchInput(input)).rejects.toThrow(/in\.jsonl:1: not JSON/);
  });

  it('resumes from the output: successes by id or line, the last word wins, torn lines ignored', async () => {
    const out = join(dir, 'out.jsonl');
    await writeFile(
      out,
      [
        '{"line": 1, "ok": true}',
        '{"line": 2, "id": "b", "ok": false}',
        '{"line": 3, "ok": true}',
        '{"line": 3, "ok": false}',
        '{"line": 4, "id": "d", "ok": true}',
        '{"line": 5, "ok": tr',
      ].join('\n'),
    );
    expect([...(await alreadyDone(out))].sort()).toEqual(['id:d', 'line:1']);
    expect((await alreadyDone(join(dir, 'missing.jsonl'))).size).toBe(0);
  });

  it('progress: plain lines when not a terminal (throttled, final state always), a redrawn bar on one', () => {
    const plain = sink(false);
    const lines = new Progress({ stream: plain.stream, everyMs: 60_000, label: 'batch' });
    for (let done = 0; done <= 10; done++) lines.update({ done, total: 10, ok: done, failed: 0, skipped: 0 });
    lines.finish();
    expect(plain.text().trim().split('\n')).toEqual([
      expect.stringMatching(/^batch 0\/10 ok 0 failed 0 skipped 0 /),
      expect.stringMatching(/^batch 10\/10 ok 10 failed 0 skipped 0 /),
    ]);
    const tty = sink(true);
    const bar = new Progress({ stream: tty.stream });
    bar.update({ done: 5, total: 10, ok: 4, failed: 1, skipped: 0 });
    bar.finish();
    expect(tty.text().startsWith('\r\u001b[2K')).toBe(true);
    expect(tty.text()).toContain('█'.repeat(12) + '░'.repeat(12) + ' 50% 5/10 ok 4 failed 1 skipped 0');
    expect(tty.text().endsWith('\n')).toBe(true);
  });

  it('exit codes: help 0, usage 2, no key 3, unreachable 4', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    for (const sub of [
      ['analyze'],
      ['batch'],
      ['jobs', 'submit'],
      ['jobs', 'watch'],
      ['schemas', 'push'],
      ['cache', 'purge'],
    ]) {
      const shown = await cli([...sub, '--help']);
      expect(shown.code, sub.join(' ')).toBe(0);
      expect(shown.stdout, sub.join(' ')).toContain('Usage: sps');
    }
    expect((await cli([])).code).toBe(2);
    expect((await cli(['nope'])).code).toBe(2);
    expect((await cli(['batch', 'x.jsonl'])).code).toBe(2);
    expect((await cli(['batch', 'x.jsonl', '-o', 'y', '--concurrency', '0'])).code).toBe(2);
    expect((await cli(['analyze', 'hi'])).code).toBe(3);
    const down = await cli(['analyze', 'hi', '--base-url', 'http://127.0.0.1:9', '--retries', '1'], {
      SPS_API_KEY: 'sk_x',
    });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain('NETWORK_ERROR');
  });
});
