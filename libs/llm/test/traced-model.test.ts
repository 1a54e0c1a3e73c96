import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSpans } from '@sps/observability/testing';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../src/language-model.js';
import { ProviderError } from '../src/provider-error.js';
import { ResilientProvider, DEFAULT_RESILIENCE } from '../src/routing/resilient-provider.js';
import { tracedModel } from '../src/routing/traced-model.js';

function fakeModel(answers: (GenerateResult | ProviderError)[]): LanguageModel {
  return {
    provider: 'openai',
    model: 'gpt-4o-mini',
    transformSchema: (schema) => ({ providerSchema: schema, restore: (x) => x, notes: [] }),
    async generate() {
      const next = answers.shift()!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const request = (content: string): GenerateRequest => ({
  system: 'Answer in JSON. Contact admin@example.com for help.',
  messages: [{ role: 'user', content }],
  schema: { providerSchema: { type: 'object' }, restore: (x) => x, notes: [] },
  schemaName: 'analysis',
  temperature: 0.2,
  maxTokens: 512,
  signal: new AbortController().signal,
});

const ok: GenerateResult = {
  text: '{"a":1}',
  tokensIn: 12,
  tokensOut: 5,
  model: 'gpt-4o-mini-2024',
  finishReason: 'stop',
};

describe('tracedModel', () => {
  let recorder: ReturnType<typeof recordSpans>;
  beforeAll(() => void (recorder = recordSpans()));
  afterAll(() => recorder.stop());
  beforeEach(() => recorder.reset());

  it('makes a CLIENT span per call with the GenAI conventions, and no content by default', async () => {
    const model = tracedModel(fakeModel([ok]));
    expect(model.model).toBe('gpt-4o-mini');
    await model.generate(request('my card is 4111 1111 1111 1111'));
    const [span] = recorder.spans();
    expect(span!.name).toBe('chat gpt-4o-mini');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 512,
      'gen_ai.output.type': 'json',
      'gen_ai.response.model': 'gpt-4o-mini-2024',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'sps.llm.provider': 'openai',
      'sps.llm.schema_name': 'analysis',
      'sps.llm.native_schema': true,
    });
  });

  it('records content only when opted in, through the redaction', async () => {
    const redact = (text: string) => text.replace(/[\w.]+@[\w.]*\w/g, '[EMAIL_1]');
    const model = tracedModel(fakeModel([{ ...ok, text: '{"mail":"bob@example.com"}' }]), {
      captureContent: { redact },
    });
    await model.generate(request('write to bob@example.com'));
    const { attributes } = recorder.spans()[0]!;
    expect(JSON.parse(String(attributes['gen_ai.input.messages']))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'write to [EMAIL_1]' }] },
    ]);
    expect(String(attributes['gen_ai.system_instructions'])).toContain('Contact [EMAIL_1] for help.');
    expect(JSON.parse(String(attributes['gen_ai.output.messages']))).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'text', content: '{"mail":"[EMAIL_1]"}' }],
        finish_reason: 'stop',
      },
    ]);
    expect(JSON.stringify(attributes)).not.toContain('example.com');
  });

  it('under the resilience policies: a retried call is two spans, the failed one marked', async () => {
    const provider = new ResilientProvider(
      tracedModel(fakeModel([new ProviderError('server_error', 'HTTP 503', 'openai'), ok])),
      { ...DEFAULT_RESILIENCE, maxRetries: 2 },
    );
    await provider.call(request('hi'), () => undefined);
    const spans = recorder.spans();
    expect(spans.map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini']);
    expect(spans[0]!.status.code).toBe(2);
    expect(spans[0]!.attributes['error.type']).toBe('server_error');
    expect(spans[1]!.attributes['gen_ai.usage.output_tokens']).toBe(5);
  });
});
