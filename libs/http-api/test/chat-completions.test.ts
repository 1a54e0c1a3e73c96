import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import type { PromptRequestMessage, ResultMessage } from '@sps/contracts';
import { NO_KEY_CONTROLS, type AuthenticatedKey } from '@sps/db';
import { errorEnvelope } from '../src/plugins/error-envelope.js';
import { ErrorEnvelope } from '../src/schemas/errors.js';
import { validatorCompiler } from '../src/validator-compiler.js';
import { chatCompletionRoutes, promptOf } from '../src/routes/chat-completions.js';
import { modelRoutes, providerCatalog, resolveModel, type ProviderCatalog } from '../src/routes/models.js';
import { bareServer } from './support/bare-server.js';

const CATALOG: ProviderCatalog = [
  { provider: 'openai', model: 'gpt-4o-mini' },
  { provider: 'anthropic', model: 'claude-haiku-4-5' },
];

let app: FastifyInstance | undefined;
afterEach(() => app?.close());

function resultFor(request: PromptRequestMessage, overrides: Partial<ResultMessage> = {}): ResultMessage {
  return {
    request_id: request.request_id,
    tenant_id: request.tenant_id,
    status: 'succeeded',
    output: {
      data: { name: 'Luigi', people: 2 },
      output_format: 'json',
      validation_status: 'passed',
      provider_used: 'openai',
      model: 'gpt-4o-mini',
      cached: false,
      repaired: false,
      original_language: 'en',
    },
    prompt: request.prompt,
    request_params: {},
    attempts: [
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        outcome: 'invalid',
        tokens_in: 10,
        tokens_out: 5,
        cost_usd: 0,
        latency_ms: 1,
      },
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        outcome: 'valid',
        tokens_in: 20,
        tokens_out: 7,
        cost_usd: 0,
        latency_ms: 1,
      },
    ],
    processing_time_ms: 2,
    completed_at: new Date().toISOString(),
    ...overrides,
  };
}

/** The routes behind a fixed principal and an admission that admits all, with a recording pipeline. */
async function setup(result: (request: PromptRequestMessage) => ResultMessage = resultFor) {
  const sent: PromptRequestMessage[] = [];
  const admitted: unknown[] = [];
  const principal: AuthenticatedKey = {
    apiKeyId: crypto.randomUUID(),
    tenantId: 'acme',
    name: 'test',
    rateLimitPerHour: 1000,
    controls: NO_KEY_CONTROLS,
  };
  const server = Fastify();
  app = server;
  server.setValidatorCompiler(validatorCompiler());
  server.addSchema(ErrorEnvelope);
  await server.register(errorEnvelope);
  server.decorateRequest('principal', null as unknown as AuthenticatedKey);
  server.addHook('onRequest', async (request) => {
    request.principal = principal;
  });
  server.decorate('admission', {
    admit: async (_request, _reply, what) => (admitted.push(what), what.options),
    begin: (_request, _reply, what) => (
      admitted.push(what),
      { options: what.options, admitted: Promise.resolve() }
    ),
    refund: async () => undefined,
  });
  const pipeline = {
    call: async (message: PromptRequestMessage) => (sent.push(message), result(message)),
  };
  await server.register(chatCompletionRoutes, {
    pipeline: pipeline as never,
    db: {} as never,
    catalog: CATALOG,
  });
  await server.register(modelRoutes, { catalog: CATALOG });
  const chat = (payload: Record<string, unknown>) =>
    server.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...payload },
    });
  return { server, sent, admitted, chat };
}

const SCHEMA = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' }, people: { type: 'integer' } },
};

describe('messages → prompt', () => {
  it('takes one user message as the prompt as it is', () => {
    expect(promptOf([{ role: 'user', content: 'Book a table' }])).toBe('Book a table');
    expect(
      promptOf([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ]),
    ).toBe('a\nb');
  });

  it('renders a conversation as role blocks in order (system and developer as System)', () => {
    expect(
      promptOf([
        { role: 'system', content: 'Extract.' },
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'Invoice 1', name: 'alice' },
        { role: 'assistant', content: '{"x":1}' },
        { role: 'user', content: 'Fix it' },
      ]),
    ).toBe(
      'System: Extract.\n\nSystem: Be brief.\n\nUser (alice): Invoice 1\n\nAssistant: {"x":1}\n\nUser: Fix it',
    );
  });

  it('refuses a conversation longer than the prompt limit, naming messages', () => {
    const long = 'x'.repeat(6000);
    expect(() =>
      promptOf([
        { role: 'user', content: long },
        { role: 'user', content: long },
      ]),
    ).toThrow(/messages: make a prompt of 12014 characters; at most 10000/);
  });
});

describe('model → provider, model, routing', () => {
  it('resolves provider/model, a provider, a configured model and the aliases', () => {
    expect(resolveModel('openai/gpt-4o', CATALOG)).toEqual({ provider: 'openai', model: 'gpt-4o' });
    expect(resolveModel('anthropic', CATALOG)).toEqual({ provider: 'anthropic' });
    expect(resolveModel('claude-haiku-4-5', CATALOG)).toEqual({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
    });
    expect(resolveModel('auto', CATALOG)).toEqual({});
    expect(resolveModel('auto/latency', CATALOG)).toEqual({ routing: 'latency' });
    expect(() => resolveModel('gpt-5', CATALOG)).toThrow(/model: 'gpt-5' is not a configured model/);
    expect(() => resolveModel('gemini/gemini-2.5-flash', CATALOG)).toThrow(/not a configured model/);
  });

  it('reads the catalog from the provider variables, with their defaults', () => {
    expect(
      providerCatalog({ LLM_PROVIDERS: 'openai,local,anthropic,nope', LOCAL_MODEL_PATH: '/m/SmolLM2.gguf' }),
    ).toEqual([
      { provider: 'openai', model: 'gpt-4o-mini' },
      { provider: 'local', model: 'SmolLM2' },
      { provider: 'anthropic', model: 'claude-haiku-4-5' },
    ]);
    expect(providerCatalog({})).toEqual([{ provider: 'local', model: undefined }]);
  });
});

describe('POST /v1/chat/completions', () => {
  it('sends the same pipeline message as analyze and answers a chat.completion with summed usage', async () => {
    const { chat, sent, admitted } = await setup();
    const response = await chat({
      messages: [{ role: 'user', content: 'Book a table at Luigi for two' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'booking', schema: SCHEMA, strict: true },
      },
      temperature: 0.5,
      max_completion_tokens: 500,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const message = sent[0]!;
    expect(message).toMatchObject({
      prompt: 'Book a table at Luigi for two',
      format: 'json',
      schema: SCHEMA,
      tenant_id: 'acme',
      options: {
        provider: 'openai',
        model: 'gpt-4o-mini',
        temperature: 0.5,
        max_tokens: 500,
        timeout_ms: 30000,
      },
    });
    expect(admitted[0]).toMatchObject({ prompts: 1, field: 'model' });
    expect(body).toEqual({
      id: `chatcmpl-${message.request_id}`,
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '{"name":"Luigi","people":2}', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 },
    });
    expect(response.headers).toMatchObject({
      'x-sps-request-id': message.request_id,
      'x-sps-validation-status': 'passed',
      'x-sps-provider': 'openai',
      'x-sps-cached': 'false',
    });
  });

  it('asks any JSON object for json_object, and the default analysis without response_format', async () => {
    const { chat, sent } = await setup();
    expect((await chat({ response_format: { type: 'json_object' } })).statusCode).toBe(200);
    expect(sent[0]?.schema).toEqual({ type: 'object' });
    expect((await chat({})).statusCode).toBe(200);
    expect(sent[1]?.schema).toBeUndefined();
  });

  it('streams the completion as chunks, with usage when asked, then [DONE]', async () => {
    const { chat } = await setup();
    const response = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = response.body.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.replace(/^data: /, '')));
    expect(chunks).toHaveLength(3);
    expect(chunks[0]).toMatchObject({
      object: 'chat.completion.chunk',
      choices: [
        { delta: { role: 'assistant', content: '{"name":"Luigi","people":2}' }, finish_reason: null },
      ],
      usage: null,
    });
    expect(chunks[1]).toMatchObject({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    expect(chunks[2]).toMatchObject({ choices: [], usage: { total_tokens: 42 } });
  });

  it('refuses unsupported parameters by name', async () => {
    const { chat, sent } = await setup();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools', /not supported/],
      [{ n: 2 }, 'n', /n > 1/],
      [{ logprobs: true }, 'logprobs', /not supported/],
      [{ top_p: 0.5 }, 'top_p', /not supported/],
      [{ response_format: { type: 'text' } }, 'response_format.type', /'text' is not supported/],
      [
        { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x' } }] }] },
        'messages.0.content.0.type',
        /image_url content parts are not supported/,
      ],
      [{ messages: [{ role: 'tool', content: 'x', tool_call_id: '1' }] }, 'messages.0.role', /tool messages/],
      [{ stream_options: { include_usage: true } }, 'stream_options', /only allowed when stream is true/],
      [{ max_tokens: 200, max_completion_tokens: 200 }, 'max_completion_tokens', /either/],
      [{ frobnicate: 1 }, 'frobnicate', /additional properties/],
      [{ model: 'gpt-5' }, 'model', /not a configured model/],
      [{ temperature: 1.5 }, 'temperature', /<= 1/],
    ];
    for (const [payload, field, reason] of cases) {
      const response = await chat(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      const { error } = response.json();
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.details.fields, JSON.stringify(payload)).toContainEqual({
        field,
        reason: expect.stringMatching(reason),
      });
      expect(error.message).toContain(field);
    }
    expect(sent).toHaveLength(0);
  });

  it('answers a failed result with its error in the envelope', async () => {
    const { chat } = await setup((request) =>
      resultFor(request, {
        status: 'failed',
        output: undefined,
        error: {
          code: 'VALIDATION_FAILED',
          message: 'no provider produced an answer that satisfies the schema',
        },
      }),
    );
    const response = await chat({});
    expect(response.statusCode).toBe(422);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.any(String) });
  });
});

describe('GET /v1/models and the OpenAPI document', () => {
  it('lists the configured providers and the routing aliases', async () => {
    const { server } = await setup();
    const response = await server.inject({ url: '/v1/models' });
    expect(response.statusCode).toBe(200);
    expect(response.json().data.map((model: { id: string }) => model.id)).toEqual([
      'openai/gpt-4o-mini',
      'anthropic/claude-haiku-4-5',
      'auto',
      'auto/priority',
      'auto/latency',
      'auto/cost',
      'auto/least-busy',
    ]);
  });

  it('documents both routes', async () => {
    const server = await bareServer();
    app = server as unknown as FastifyInstance;
    const document = (await server.inject({ url: '/openapi.json' })).json();
    const chat = document.paths['/v1/chat/completions'].post;
    expect(Object.keys(chat.responses['200'].content)).toEqual(['application/json', 'text/event-stream']);
    expect(chat.requestBody.content['application/json'].schema.properties).toHaveProperty('response_format');
    expect(document.paths['/v1/models'].get.responses).toHaveProperty('200');
  });
});
