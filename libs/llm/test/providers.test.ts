import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer, type FakeProviderName } from '@sps/testing';
import {
  DEFAULT_PRICES,
  DEFAULT_RESILIENCE,
  ProviderRouter,
  ResilientProvider,
  SchemaCompiler,
  StructuredOutputEngine,
  createAnthropicModel,
  createGeminiModel,
  createOpenAIModel,
  type LanguageModel,
  type ResilienceSettings,
} from '../src/index.js';

const fake = new FakeProviderServer();
const schemas = new SchemaCompiler();
const invoiceSchema = schemas.compile({
  type: 'object',
  properties: { invoice_number: { type: 'string' }, amount: { type: 'number' }, note: { type: 'string' } },
  required: ['invoice_number', 'amount'],
});

const MODELS: Record<FakeProviderName, { model: string; create: () => LanguageModel }> = {
  openai: {
    model: 'gpt-4o-mini',
    create: () =>
      createOpenAIModel({
        provider: 'openai',
        model: 'gpt-4o-mini',
        apiKey: 'sk-test',
        baseURL: fake.openaiBaseUrl,
      }),
  },
  anthropic: {
    model: 'claude-haiku-4-5',
    create: () =>
      createAnthropicModel({
        model: 'claude-haiku-4-5',
        apiKey: 'sk-ant-test',
        baseURL: fake.anthropicBaseUrl,
      }),
  },
  gemini: {
    model: 'gemini-2.5-flash',
    create: () =>
      createGeminiModel({ model: 'gemini-2.5-flash', apiKey: 'gm-test', baseURL: fake.geminiBaseUrl }),
  },
};

const FAST: ResilienceSettings = {
  ...DEFAULT_RESILIENCE,
  timeoutMs: 2_000,
  maxRetries: 1,
  breakerThreshold: 3,
  breakerCooldownMs: 500,
};

/** Every router made, closed (their HTTP clients' connections) after the tests. */
const routers: ProviderRouter[] = [];

function engineFor(names: FakeProviderName[], settings: Partial<ResilienceSettings> = {}) {
  const providers = names.map(
    (name) => new ResilientProvider(MODELS[name].create(), { ...FAST, ...settings }),
  );
  const router = new ProviderRouter(providers, DEFAULT_PRICES);
  routers.push(router);
  return {
    engine: new StructuredOutputEngine({ router, prices: DEFAULT_PRICES, maxAttemptsPerProvider: 3 }),
    providers,
  };
}

const baseRequest = {
  prompt: 'Invoice #12345 for $1,250.00',
  schema: invoiceSchema,
  isDefaultAnalysis: false,
  temperature: 0.1,
  maxTokens: 500,
  signal: AbortSignal.timeout(60_000),
};
const ask = (engine: StructuredOutputEngine, signal = AbortSignal.timeout(10_000)) =>
  engine.run({ ...baseRequest, signal });

beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await Promise.all(routers.map((router) => router.close()));
  await fake.stop();
});
beforeEach(() => fake.reset());

describe.each(['openai', 'anthropic', 'gemini'] as const)('%s through its official SDK', (name) => {
  it('sends the schema in the native structured-output field and records tokens and cost', async () => {
    const { engine } = engineFor([name]);
    const answer = await ask(engine);
    expect(answer.data).toMatchObject({ invoice_number: expect.any(String), amount: expect.any(Number) });
    const body = fake.requestsFor(name)[0]!.raw as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const nativeSchema = {
      openai: () => body.response_format.json_schema.schema,
      anthropic: () => body.output_config.format.schema,
      gemini: () => body.generationConfig.responseJsonSchema,
    }[name]();
    expect(nativeSchema).toMatchObject({
      type: 'object',
      properties: { invoice_number: { type: 'string' } },
    });
    expect(answer.attempts).toHaveLength(1);
    const [attempt] = answer.attempts;
    expect(attempt).toMatchObject({ provider: name, outcome: 'valid', model: MODELS[name].model });
    expect(attempt!.tokens_in).toBeGreaterThan(0);
    expect(attempt!.tokens_out).toBeGreaterThan(0);
    const price = DEFAULT_PRICES[MODELS[name].model]!;
    expect(attempt!.cost_usd).toBeCloseTo(
      (attempt!.tokens_in * price.input + attempt!.tokens_out * price.output) / 1e6,
      6,
    );
  });

  it('repairs truncated JSON and records that it did', async () => {
    fake.scriptFor(name, { kind: 'truncated' });
    const answer = await ask(engineFor([name]).engine);
    expect(answer.repaired).toBe(true);
    expect(answer.attempts.map((a) => a.outcome)).toEqual(['repaired']);
    expect(fake.callsFor(name)).toBe(1);
  });

  it('asks again with the validation errors as feedback', async () => {
    fake.scriptFor(name, { kind: 'violating' }, { kind: 'valid' });
    const answer = await ask(engineFor([name]).engine);
    expect(answer.attempts.map((a) => a.outcome)).toEqual(['invalid', 'valid']);
    const second = fake.requestsFor(name)[1]!;
    expect(second.texts.join('\n')).toMatch(
      /does not satisfy the schema[\s\S]*must have required property 'invoice_number'/,
    );
  });

  it('falls back to the next provider when the first answers 500', async () => {
    const other: FakeProviderName = name === 'openai' ? 'anthropic' : 'openai';
    fake.scriptFor(name, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const answer = await ask(engineFor([name, other]).engine);
    expect(answer.provider).toBe(other);
    expect(answer.attempts.map((a) => [a.provider, a.outcome])).toEqual([
      [name, 'error'],
      [name, 'error'],
      [other, 'valid'],
    ]);
  });

  it('opens the breaker after N consecutive failures and calls no more until the cool-down', async () => {
    const { engine, providers } = engineFor([name], {
      maxRetries: 0,
      breakerThreshold: 3,
      breakerCooldownMs: 400,
    });
    fake.scriptFor(name, ...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 503 })));
    for (let i = 0; i < 3; i++)
      await expect(ask(engine)).rejects.toMatchObject({ code: 'LLM_PROVIDER_ERROR' });
    expect(fake.callsFor(name)).toBe(3);
    expect(providers[0]!.isOpen).toBe(true);
    const refused = await ask(engine).catch((error) => error);
    expect(refused.details.attempts.at(-1).error_class).toBe('circuit_open');
    expect(fake.callsFor(name)).toBe(3);

    await new Promise((resolve) => setTimeout(resolve, 450));
    fake.reset();
    const probe = await ask(engine);
    expect(probe.provider).toBe(name);
    expect(fake.callsFor(name)).toBe(1);
    expect(providers[0]!.isOpen).toBe(false);
  });

  it('honours Retry-After before retrying', async () => {
    fake.scriptFor(name, { kind: 'status', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const answer = await ask(engineFor([name]).engine);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(answer.attempts.map((a) => a.outcome)).toEqual(['error', 'valid']);
    expect(answer.attempts[0]!.error_class).toBe('rate_limited');
  });

  it('enforces the per-call timeout on a provider that hangs', async () => {
    fake.scriptFor(name, { kind: 'hang' });
    const started = Date.now();
    const answer = await ask(engineFor([name], { timeoutMs: 300, maxRetries: 1 }).engine);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(answer.attempts.map((a) => [a.outcome, a.error_class])).toEqual([
      ['error', 'timeout'],
      ['valid', undefined],
    ]);
  });

  it('cuts off an answer slower than the per-call timeout, and drops its connection', async () => {
    fake.scriptFor(name, { kind: 'valid', latencyMs: 3_000 });
    const started = Date.now();
    const error = await ask(engineFor([name], { timeoutMs: 300, maxRetries: 0 }).engine).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toMatchObject({ code: 'LLM_PROVIDER_ERROR' });
    expect(error.details.attempts.map((a: { error_class: string }) => a.error_class)).toEqual(['timeout']);
    await expect.poll(() => fake.callsAbandoned).toBe(1);
  });

  it('cuts off a call at the request deadline when it comes before the per-call timeout', async () => {
    fake.scriptFor(name, { kind: 'hang' });
    const started = Date.now();
    const error = await ask(engineFor([name], { timeoutMs: 10_000 }).engine, AbortSignal.timeout(300)).catch(
      (e) => e,
    );
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(error.details.attempts.map((a: { error_class: string }) => a.error_class)).toEqual(['timeout']);
    await expect.poll(() => fake.callsAbandoned).toBe(1);
  });

  it('leaves no listener on the deadline signal, whatever the number of calls made under it', async () => {
    const { engine } = engineFor([name]);
    const deadline = AbortSignal.timeout(30_000);
    // Three calls under one deadline (two invalid answers asked again), then more requests under it.
    fake.scriptFor(name, { kind: 'violating' }, { kind: 'violating' }, { kind: 'valid' });
    expect((await ask(engine, deadline)).attempts).toHaveLength(3);
    for (let i = 0; i < 12; i++) await ask(engine, deadline);
    expect(getEventListeners(deadline, 'abort')).toHaveLength(0);
  });
});

describe('concurrent calls', () => {
  it('256 at once: no MaxListenersExceededWarning, no listener left on any deadline', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const { engine } = engineFor(['openai']);
      const deadlines = Array.from({ length: 256 }, () => AbortSignal.timeout(30_000));
      const answers = await Promise.all(deadlines.map((deadline) => ask(engine, deadline)));
      expect(answers.every((answer) => answer.provider === 'openai')).toBe(true);
      // A warning is emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
      expect(deadlines.filter((deadline) => getEventListeners(deadline, 'abort').length > 0)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('routing policies', () => {
  it('orders by cost, by observed latency and by explicit choice', async () => {
    const { engine, providers } = engineFor(['openai', 'anthropic', 'gemini']);
    const router = new ProviderRouter(providers, DEFAULT_PRICES);
    expect(router.order({ policy: 'cost' }).map((p) => p.name)).toEqual(['openai', 'gemini', 'anthropic']);
    expect(router.order({ provider: 'gemini' }).map((p) => p.name)).toEqual(['gemini']);
    expect(() => router.order({ provider: 'nope' })).toThrow(/not configured/);

    fake.scriptFor('openai', { kind: 'valid', latencyMs: 150 });
    for (const provider of ['openai', 'gemini', 'anthropic']) {
      await engine.run({ ...baseRequest, route: { provider } });
    }
    expect(router.order({ policy: 'latency' }).at(-1)!.name).toBe('openai');
  });
});

describe("providers' schema rules", () => {
  const awkward = schemas.compile({
    type: 'object',
    properties: {
      kind: { enum: ['person', 'company'] },
      name: { type: 'string', minLength: 2, maxLength: 80 },
      vat: { type: 'string', pattern: '^[A-Z]{2}[0-9]{8,12}$' },
      age: { type: 'integer', minimum: 0, maximum: 150 },
    },
    required: ['kind', 'name'],
    allOf: [{ if: { properties: { kind: { const: 'company' } } }, then: { required: ['vat'] } }],
  });

  it('the fake answers 400 to an OpenAI strict schema using allOf, as the real API does', async () => {
    const response = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'r', strict: true, schema: awkward.schema },
        },
      }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/allOf/);
  });

  it.each(['openai', 'anthropic', 'gemini'] as const)(
    '%s accepts the transformed schema natively (no 400)',
    async (name) => {
      const { engine } = engineFor([name]);
      // The fake's generated answers do not try to satisfy patterns: only acceptance is judged here.
      const outcome = await engine
        .run({
          prompt: 'ACME Ltd, VAT GB123456789',
          schema: awkward,
          isDefaultAnalysis: false,
          temperature: 0,
          maxTokens: 200,
          signal: AbortSignal.timeout(5_000),
        })
        .catch((error: { details: { attempts: { outcome: string }[] } }) => error.details);
      expect(outcome.attempts.length).toBeGreaterThan(0);
      expect(outcome.attempts.filter((a) => a.outcome === 'error')).toEqual([]);
      expect(fake.requestsFor(name).at(-1)!.schema).toBeDefined();
    },
  );
});

describe('per-provider budgets', () => {
  it('spends the requests-per-minute budget, then falls back without calling', async () => {
    const { engine } = engineFor(['openai', 'gemini'], { requestsPerMinute: 2 });
    for (let i = 0; i < 2; i++) expect((await ask(engine)).provider).toBe('openai');
    const third = await ask(engine);
    expect(third.provider).toBe('gemini');
    expect(third.attempts[0]).toMatchObject({
      provider: 'openai',
      outcome: 'error',
      error_class: 'rate_limited',
    });
    expect(fake.callsFor('openai')).toBe(2);
  });

  it('bounds concurrent calls per provider and refuses past its queue', async () => {
    const { engine } = engineFor(['openai'], { maxConcurrency: 2, maxQueued: 1, maxRetries: 0 });
    fake.setLatency(200);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        ask(engine).then(
          () => 'ok',
          (error) => error.details.attempts[0].error_class,
        ),
      ),
    );
    fake.setLatency(0);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'overloaded')).toHaveLength(2);
  });
});
