import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { systemPrompt } from '../src/engine/prompts.js';
import type { GenerateRequest } from '../src/language-model.js';
import { ProviderError } from '../src/provider-error.js';
import { createLocalModel, type LocalLanguageModel } from '../src/providers/local/index.js';

// The real model end to end (SmolLM2-135M-Instruct on CPU). scripts/test.sh exports the path;
// by hand: LOCAL_MODEL_PATH=$(bash deploy/local/model.sh) npx vitest run libs/llm/test/local-model.int.test.ts --project integration

const person = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['name', 'age', 'tags'],
  additionalProperties: false,
} as const;

let model: LocalLanguageModel | undefined;

/** The shared model; fails (never skips) the calling test when LOCAL_MODEL_PATH is missing. */
function localModel(): LocalLanguageModel {
  const modelPath = process.env.LOCAL_MODEL_PATH;
  if (!modelPath) {
    throw new Error(
      'LOCAL_MODEL_PATH is not set: run `bash deploy/local/model.sh` (it downloads the model and prints its path), ' +
        'e.g. LOCAL_MODEL_PATH=$(bash deploy/local/model.sh) npx vitest run libs/llm/test/local-model.int.test.ts --project integration',
    );
  }
  model ??= createLocalModel({ modelPath, timeoutMs: 60_000 });
  return model;
}

function request(
  llm: LocalLanguageModel,
  schema: Record<string, unknown>,
  prompt: string,
  overrides: Partial<GenerateRequest> = {},
): GenerateRequest {
  return {
    system: systemPrompt(schema, false),
    messages: [{ role: 'user', content: prompt }],
    schema: llm.transformSchema(schema),
    schemaName: 'response',
    temperature: 0,
    maxTokens: 120,
    signal: new AbortController().signal,
    ...overrides,
  };
}

const validator = new Ajv({ strict: false }).compile(person);

/** What the engine does with an answer: parse, restore to the original's shape, validate. */
function validatePerson(llm: LocalLanguageModel, text: string): string | undefined {
  const answer = llm.transformSchema(person).restore(JSON.parse(text));
  return validator(answer) ? undefined : `${text}: ${JSON.stringify(validator.errors)}`;
}

afterAll(async () => {
  await model?.dispose();
});

describe('local model (node-llama-cpp, SmolLM2-135M)', () => {
  it('answers with JSON that satisfies the schema', async () => {
    const llm = localModel();
    const started = performance.now();
    const result = await llm.generate(
      request(llm, person, 'Alice is 31 years old and enjoys chess and hiking.'),
    );
    console.info(
      `local model: first call (load + generation) ${Math.round(performance.now() - started)} ms: ${result.text}`,
    );

    expect(validatePerson(llm, result.text)).toBeUndefined();
    expect(result).toMatchObject({ model: 'SmolLM2-135M-Instruct.Q4_1', finishReason: 'stop' });
    expect(result.tokensIn).toBeGreaterThan(50);
    expect(result.tokensOut).toBeGreaterThan(5);

    const again = performance.now();
    const second = await llm.generate(request(llm, person, 'Bob, aged 45, is a keen sailor.'));
    console.info(`local model: warm generation ${Math.round(performance.now() - again)} ms: ${second.text}`);
    expect(validatePerson(llm, second.text)).toBeUndefined();
  });

  it('answers with JSON in JSON mode when the schema has no native form', async () => {
    const llm = localModel();
    const result = await llm.generate({
      ...request(llm, person, 'Carol is 27 and likes painting.'),
      schema: { providerSchema: undefined, restore: (instance) => instance, notes: [] },
      maxTokens: 40,
    });
    // The JSON grammar guarantees syntax, not an end: a 135M model may still be mid-value at
    // maxTokens. Unconstrained, it opens with prose ("Here's a ..."); constrained, with JSON.
    expect(result.text.trimStart()).toMatch(/^[{["\-\d]|^(true|false|null)/);
    if (result.finishReason === 'stop') expect(() => JSON.parse(result.text) as unknown).not.toThrow();
  });

  it('serves concurrent calls one after another', async () => {
    const llm = localModel();
    const results = await Promise.all([
      llm.generate(request(llm, person, 'Dan is 52 and collects stamps.')),
      llm.generate(request(llm, person, 'Eve is 19 and plays the violin.')),
    ]);
    for (const result of results) expect(validatePerson(llm, result.text)).toBeUndefined();
  });

  it('rejects promptly with a timeout error when the signal aborts', async () => {
    const llm = localModel();
    const long = { type: 'array', items: { type: 'string' }, minItems: 500 };
    const controller = new AbortController();
    const pending = llm.generate(
      request(llm, long, 'List five hundred city names.', { maxTokens: 4000, signal: controller.signal }),
    );
    const outcome = pending.then(
      () => ({ error: undefined, at: performance.now() }),
      (error: unknown) => ({ error, at: performance.now() }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // generating by now (the model is loaded)
    const abortedAt = performance.now();
    controller.abort(new Error('deadline'));
    const { error, at } = await outcome;

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ errorClass: 'timeout', provider: 'local' });
    console.info(`local model: rejected ${Math.round(at - abortedAt)} ms after the abort`);
    // One evaluation step is not interruptible; with cores shared by other work it can take a while.
    expect(at - abortedAt).toBeLessThan(2_000);

    // An already-aborted signal never reaches the model.
    await expect(
      llm.generate(request(llm, person, 'x', { signal: AbortSignal.abort() })),
    ).rejects.toMatchObject({
      errorClass: 'timeout',
    });
    // The sequence was released: the next call works.
    const after = await llm.generate(request(llm, person, 'Frank is 33 and runs marathons.'));
    expect(validatePerson(llm, after.text)).toBeUndefined();
  });

  it('refuses a prompt longer than the context as a bad request', async () => {
    const llm = localModel();
    const error: unknown = await llm
      .generate(request(llm, person, 'word '.repeat(6_000)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ errorClass: 'bad_request' });
    expect((error as ProviderError).message).toMatch(/does not fit the local model's context of \d+ tokens/);
  });

  it('names the download command when the model file is missing', async () => {
    const missing = createLocalModel({ modelPath: '/nonexistent/models/none.gguf' });
    const error: unknown = await missing.generate(request(missing, person, 'x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ errorClass: 'bad_request', retryable: false });
    expect((error as ProviderError).message).toContain('/nonexistent/models/none.gguf');
    expect((error as ProviderError).message).toContain('bash deploy/local/model.sh');
  });
});
