import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startPipeline, type Pipeline } from './harness.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PYTHON_CLIENTS = join(REPO_ROOT, 'e2e', 'python', 'openai_clients.py');

const BOOKING = {
  type: 'object',
  required: ['restaurant', 'people', 'day'],
  properties: { restaurant: { type: 'string' }, people: { type: 'integer' }, day: { type: 'string' } },
  additionalProperties: false,
};
const validBooking = new Ajv().compile(BOOKING);

/** A prompt no other test sends: its own work (no cache hit), and a handle for scripted answers. */
const uniquePrompt = (text: string) => `${text} [${randomUUID()}]`;

/**
 * The OpenAI-compatible door (POST /v1/chat/completions, GET /v1/models) with clients nobody here
 * wrote, pointed at the service by base URL: the official Node `openai` SDK, and (through
 * e2e/python/openai_clients.py) the Python `openai` package and Instructor with a Pydantic model.
 * Real Kafka, Postgres and Redis; the fake provider answers (scripted where a re-ask is needed).
 */
describe('OpenAI-compatible door (official SDKs, Instructor)', () => {
  let pipeline: Pipeline;
  let client: OpenAI;
  let python: string;

  beforeAll(async () => {
    [pipeline, python] = await Promise.all([startPipeline(), pythonClients()]);
    client = new OpenAI({ baseURL: `${pipeline.baseUrl}/v1`, apiKey: pipeline.apiKey, maxRetries: 0 });
  }, 360_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  /** The stored result of a completion: its attempts, with tokens. */
  const stored = async (completionId: string) => {
    const response = await fetch(
      `${pipeline.baseUrl}/v1/requests/${completionId.replace(/^chatcmpl-/, '')}`,
      {
        headers: { authorization: `Bearer ${pipeline.apiKey}` },
      },
    );
    expect(response.status).toBe(200);
    return json(response);
  };

  /** Runs one case of openai_clients.py against the service; its JSON output. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const runPython = async (kase: string, ...args: string[]): Promise<any> => {
    const { stdout } = await promisify(execFile)(python, [PYTHON_CLIENTS, kase, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SPS_BASE_URL: pipeline.baseUrl, SPS_API_KEY: pipeline.apiKey },
      timeout: 60_000,
    });
    return JSON.parse(stdout);
  };

  describe('Node: the official openai SDK', () => {
    it('gets a schema-valid answer with usage and our headers', async () => {
      const { data, response } = await client.chat.completions
        .create({
          model: 'openai/gpt-4o-mini',
          messages: [
            { role: 'system', content: 'Extract the booking.' },
            { role: 'user', content: uniquePrompt('Book a table for two at Luigi on Friday at 8pm') },
          ],
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'booking', schema: BOOKING, strict: true },
          },
        })
        .withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.model).toBe('gpt-4o-mini');
      expect(data.choices[0]?.finish_reason).toBe('stop');
      const content = JSON.parse(data.choices[0]!.message.content!);
      expect(validBooking(content), JSON.stringify(validBooking.errors)).toBe(true);
      expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
      expect(data.usage!.completion_tokens).toBeGreaterThan(0);
      expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(response.headers.get('x-sps-validation-status')).toBe('passed');
      expect(response.headers.get('x-sps-provider')).toBe('openai');
      expect(response.headers.get('x-sps-cached')).toBe('false');
      expect(data.id).toBe(`chatcmpl-${response.headers.get('x-sps-request-id')}`);
      // The fake provider got the caller's schema natively (the same path as /v1/analyze).
      expect(pipeline.fake.requests.at(-1)?.schema).toMatchObject({ required: BOOKING.required });
    });

    it('re-asks after a scripted invalid answer, and sums the usage of both attempts', async () => {
      const prompt = uniquePrompt('Table for four at Nonna on Saturday');
      pipeline.fake.script({ kind: 'violating', forPrompt: prompt }, { kind: 'valid', forPrompt: prompt });
      const calls = pipeline.fake.calls;
      const completion = await client.chat.completions.create({
        model: 'gpt-4o-mini', // the configured model of a provider, by its bare name
        messages: [{ role: 'user', content: prompt }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'booking', schema: BOOKING, strict: true },
        },
      });
      expect(validBooking(JSON.parse(completion.choices[0]!.message.content!))).toBe(true);
      expect(pipeline.fake.calls - calls).toBe(2);
      const { attempts } = await stored(completion.id);
      expect(attempts.map((attempt: { outcome: string }) => attempt.outcome)).toEqual(['invalid', 'valid']);
      const sum = (key: 'tokens_in' | 'tokens_out') =>
        attempts.reduce((total: number, attempt: Record<string, number>) => total + attempt[key]!, 0);
      expect(completion.usage).toEqual({
        prompt_tokens: sum('tokens_in'),
        completion_tokens: sum('tokens_out'),
        total_tokens: sum('tokens_in') + sum('tokens_out'),
      });
      expect(completion.usage!.prompt_tokens).toBeGreaterThan(attempts[0].tokens_in);
    });

    it('streams the validated answer as chunks the SDK iterates', async () => {
      const stream = await client.chat.completions.create({
        model: 'auto',
        messages: [{ role: 'user', content: uniquePrompt('Dinner for 3 at Roma on Monday') }],
        response_format: { type: 'json_schema', json_schema: { name: 'booking', schema: BOOKING } },
        stream: true,
        stream_options: { include_usage: true },
      });
      let content = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        expect(chunk.object).toBe('chat.completion.chunk');
        content += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(chunks).toBe(3);
      expect(finish).toBe('stop');
      expect(validBooking(JSON.parse(content))).toBe(true);
      expect(usage?.total_tokens).toBeGreaterThan(0);
    });

    it('answers json_object with any JSON object, and no response_format with the default analysis', async () => {
      const object = await client.chat.completions.create({
        model: 'openai',
        messages: [{ role: 'user', content: uniquePrompt('Give me a JSON object about Luigi') }],
        response_format: { type: 'json_object' },
      });
      const value = JSON.parse(object.choices[0]!.message.content!);
      expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);

      const analysis = await client.chat.completions.create({
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: uniquePrompt('Invoice #12345, Amount: $1,250.00') }],
      });
      expect(JSON.parse(analysis.choices[0]!.message.content!)).toMatchObject({
        intent: expect.any(String),
        entities: expect.anything(),
        confidence: expect.any(Number),
      });
    });

    it('refuses an unsupported parameter by name, as a typed 400 APIError', async () => {
      const refused = await client.chat.completions
        .create({
          model: 'openai/gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
          tools: [{ type: 'function', function: { name: 'book', parameters: { type: 'object' } } }],
        })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      const error = refused as InstanceType<typeof OpenAI.BadRequestError>;
      expect(error.status).toBe(400);
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toMatch(/^400 tools: tools and function calling are not supported/);

      const unknown = await client.chat.completions
        .create({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
      expect((unknown as Error).message).toMatch(/model: 'gpt-5' is not a configured model/);

      const unauthorized = await new OpenAI({
        baseURL: `${pipeline.baseUrl}/v1`,
        apiKey: 'sk-nope',
        maxRetries: 0,
      }).chat.completions
        .create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    });

    it('lists the configured models and the routing aliases', async () => {
      const ids: string[] = [];
      for await (const model of client.models.list()) ids.push(model.id);
      expect(ids).toEqual([
        'openai/gpt-4o-mini',
        'auto',
        'auto/priority',
        'auto/latency',
        'auto/cost',
        'auto/least-busy',
      ]);
    });

    it('is in the OpenAPI document', async () => {
      const document = await json(await fetch(`${pipeline.baseUrl}/openapi.json`));
      expect(document.paths['/v1/chat/completions']?.post).toBeDefined();
      expect(document.paths['/v1/models']?.get).toBeDefined();
    });
  });

  describe('Python: the openai package and Instructor', () => {
    it('gets a schema-valid answer with usage and our headers', async () => {
      const result = await runPython(
        'schema',
        '--model',
        'openai/gpt-4o-mini',
        '--prompt',
        uniquePrompt('Luigi, 2, Friday'),
      );
      expect(result.versions.openai).toBeTruthy();
      expect(result.object).toBe('chat.completion');
      expect(validBooking(result.parsed)).toBe(true);
      expect(result.usage.total_tokens).toBeGreaterThan(0);
      expect(result.headers).toMatchObject({
        'x-sps-validation-status': 'passed',
        'x-sps-provider': 'openai',
      });
      expect(result.id).toBe(`chatcmpl-${result.headers['x-sps-request-id']}`);
    });

    it('gets a schema-valid answer after a re-ask', async () => {
      const prompt = uniquePrompt('Nonna, 4 people, Saturday');
      pipeline.fake.script(
        { kind: 'text', text: 'Sure! It is a booking.', forPrompt: prompt },
        { kind: 'valid', forPrompt: prompt },
      );
      const result = await runPython('schema', '--prompt', prompt);
      expect(validBooking(result.parsed)).toBe(true);
      const { attempts } = await stored(result.id);
      expect(attempts.map((attempt: { outcome: string }) => attempt.outcome)).toEqual(['invalid', 'valid']);
      expect(result.usage.prompt_tokens).toBe(attempts[0].tokens_in + attempts[1].tokens_in);
    });

    it('streams with the SDK iterator', async () => {
      const result = await runPython('stream', '--prompt', uniquePrompt('Roma, 3, Monday'));
      expect(result).toMatchObject({ chunks: 3, finish_reason: 'stop' });
      expect(validBooking(result.parsed)).toBe(true);
      expect(result.usage.total_tokens).toBeGreaterThan(0);
    });

    it('Instructor (Mode.JSON_SCHEMA) returns a populated Pydantic model, validated by the service', async () => {
      const prompt = uniquePrompt('Invoice #12345, 2025-01-15, $42.50, paid');
      const result = await runPython('instructor', '--prompt', prompt);
      expect(result).toMatchObject({ mode: 'json_schema_mode', type: 'Invoice', is_invoice: true });
      expect(result.invoice).toEqual({
        invoice_number: expect.any(String),
        date: expect.any(String),
        total: expect.any(Number),
        paid: expect.any(Boolean),
        items: expect.any(Array),
      });
      // The service got Pydantic's schema as response_format and validated the answer against it.
      const request = pipeline.fake.requests.filter((r) => r.prompt.includes(prompt)).at(-1);
      expect(request?.schema).toMatchObject({
        required: expect.arrayContaining(['invoice_number', 'date', 'total', 'paid', 'items']),
      });
    });

    it('Instructor (Mode.JSON) returns a populated Pydantic model, validated by Instructor', async () => {
      // json_object: the service guarantees a JSON object; the schema is only in Instructor's system
      // message, which the fake provider does not read, so it is scripted to follow it.
      const prompt = uniquePrompt('Invoice #777, 2025-02-01, $9.99, unpaid');
      const invoice = {
        invoice_number: '777',
        date: '2025-02-01',
        total: 9.99,
        paid: false,
        items: ['coffee'],
      };
      pipeline.fake.script({ kind: 'text', text: JSON.stringify(invoice), forPrompt: prompt });
      const result = await runPython('instructor-json', '--prompt', prompt);
      expect(result).toMatchObject({ mode: 'json_mode', type: 'Invoice', is_invoice: true, invoice });
    });

    it('raises a typed BadRequestError naming an unsupported parameter', async () => {
      const result = await runPython('refused');
      expect(result).toMatchObject({
        error_class: 'BadRequestError',
        is_bad_request: true,
        status_code: 400,
        code: 'INVALID_REQUEST',
        body: { message: expect.stringMatching(/^top_p: is not supported/) },
      });
    });

    it('lists the models', async () => {
      expect((await runPython('models')).ids).toContain('openai/gpt-4o-mini');
    });
  });
});

/** The venv of scripts/python-clients.sh (npm test exports it as SPS_PYTHON_CLIENTS). */
async function pythonClients(): Promise<string> {
  if (process.env.SPS_PYTHON_CLIENTS) return process.env.SPS_PYTHON_CLIENTS;
  const { stdout } = await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'python-clients.sh')], {
    cwd: REPO_ROOT,
    timeout: 300_000,
  });
  return stdout.trim();
}
