import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS, ServiceError, type ResultMessage } from '@sps/contracts';
import type { Database } from '@sps/db';
import { checkSchemaLimits } from '../input-limits.js';
import type { PipelineClient } from '../pipeline-client.js';
import {
  ChatCompletion,
  ChatCompletionBody,
  ChatCompletionEvent,
  type ChatMessage,
  type ChatCompletion as ChatCompletionType,
} from '../schemas/chat-completions.js';
import { bodyErrors } from '../schemas/errors.js';
import { buildRequest, toStructuredResponse } from './analyze.js';
import { providerCatalog, resolveModel, type ProviderCatalog } from './models.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * OpenAI Chat Completions parameters this service does not honour, each with why. A request that
 * carries one is refused naming it (before schema validation, so the message says why), rather
 * than answered as if it had been applied. Parameters OpenAI does not have are refused by the
 * schema (`additionalProperties: false`).
 */
const UNSUPPORTED: Record<string, string> = {
  tools: 'tools and function calling are not supported: ask for JSON with response_format',
  tool_choice: 'tools and function calling are not supported: ask for JSON with response_format',
  parallel_tool_calls: 'tools and function calling are not supported: ask for JSON with response_format',
  functions: 'tools and function calling are not supported: ask for JSON with response_format',
  function_call: 'tools and function calling are not supported: ask for JSON with response_format',
  logprobs: 'log probabilities are not supported',
  top_logprobs: 'log probabilities are not supported',
  logit_bias: 'is not supported',
  top_p: 'is not supported (temperature is)',
  frequency_penalty: 'is not supported',
  presence_penalty: 'is not supported',
  stop: 'is not supported: the answer is the whole validated JSON',
  seed: 'is not supported',
  user: 'is not supported',
  safety_identifier: 'is not supported',
  prompt_cache_key: 'is not supported (answers are cached by their work, per tenant)',
  metadata: 'is not supported',
  store: 'is not supported (every request is stored: GET /v1/requests/{id})',
  service_tier: 'is not supported',
  modalities: 'text only: audio output is not supported',
  audio: 'audio output is not supported',
  prediction: 'is not supported',
  reasoning_effort: 'is not supported',
  verbosity: 'is not supported',
  web_search_options: 'is not supported',
};

type Field = { field: string; reason: string };

/**
 * What the schema would refuse without saying why, named with the reason: OpenAI parameters this
 * service does not honour, n > 1, tool and function messages, non-text content parts and
 * response formats other than json_schema and json_object. Runs before validation on the parsed body.
 */
export function unsupportedFields(body: unknown): Field[] {
  if (!isRecord(body)) return [];
  const fields: Field[] = [];
  for (const [name, reason] of Object.entries(UNSUPPORTED)) {
    if (name in body && body[name] !== null) fields.push({ field: name, reason });
  }
  if (typeof body.n === 'number' && body.n > 1)
    fields.push({ field: 'n', reason: 'one choice only: n > 1 is not supported' });
  const format = body.response_format;
  if (
    isRecord(format) &&
    typeof format.type === 'string' &&
    !['json_schema', 'json_object'].includes(format.type)
  )
    fields.push({
      field: 'response_format.type',
      reason: `'${format.type}' is not supported: use json_schema or json_object (or omit it for the default analysis)`,
    });
  if (Array.isArray(body.messages)) {
    body.messages.forEach((message: unknown, index) => {
      if (!isRecord(message)) return;
      const at = `messages.${index}`;
      if (message.role === 'tool' || message.role === 'function')
        fields.push({ field: `${at}.role`, reason: `${message.role} messages are not supported (no tools)` });
      for (const name of ['tool_calls', 'function_call', 'audio', 'refusal'])
        if (name in message && message[name] !== null)
          fields.push({ field: `${at}.${name}`, reason: 'is not supported' });
      if (Array.isArray(message.content))
        message.content.forEach((part: unknown, partIndex) => {
          if (isRecord(part) && typeof part.type === 'string' && part.type !== 'text')
            fields.push({
              field: `${at}.content.${partIndex}.type`,
              reason: `${part.type} content parts are not supported (text only)`,
            });
        });
    });
  }
  return fields;
}

const ROLE_LABEL: Record<ChatMessage['role'], string> = {
  system: 'System',
  developer: 'System',
  user: 'User',
  assistant: 'Assistant',
};

/**
 * The pipeline's prompt made of chat messages. One user message alone is the prompt as it is (so
 * the same prompt by /v1/analyze is the same work: one cache entry). Otherwise every message in
 * order becomes a block `Role: text` (`Role (name):` when named; system and developer are both
 * `System`), separated by blank lines. Text parts of one message are joined by newlines.
 */
export function promptOf(messages: ChatMessage[]): string {
  const textOf = (message: ChatMessage) =>
    typeof message.content === 'string'
      ? message.content
      : message.content.map((part) => part.text).join('\n');
  const only = messages[0];
  const prompt =
    messages.length === 1 && only?.role === 'user' && !only.name
      ? textOf(only)
      : messages
          .map((message) => {
            const label = ROLE_LABEL[message.role] + (message.name ? ` (${message.name})` : '');
            return `${label}: ${textOf(message)}`;
          })
          .join('\n\n');
  const length = prompt.trim().length;
  if (length > LIMITS.promptMaxChars) {
    const reason = `make a prompt of ${length} characters; at most ${LIMITS.promptMaxChars} are allowed`;
    throw new ServiceError('INVALID_REQUEST', `messages: ${reason}`, {
      fields: [{ field: 'messages', reason }],
    });
  }
  return prompt;
}

/** The JSON Schema an answer must satisfy, from response_format (undefined: the default analysis). */
export function schemaOf(format: ChatCompletionBody['response_format']): Record<string, unknown> | undefined {
  if (!format) return undefined;
  if (format.type === 'json_object') return { type: 'object' };
  const { schema, description } = format.json_schema;
  return description && schema.description === undefined ? { ...schema, description } : schema;
}

/** The chat.completion a pipeline result becomes (a failure throws the error it carries). */
export function toChatCompletion(
  result: ResultMessage,
  created: number,
): {
  completion: ChatCompletionType;
  headers: Record<string, string>;
} {
  const answer = toStructuredResponse(result, 0);
  const prompt_tokens = result.attempts.reduce((sum, attempt) => sum + attempt.tokens_in, 0);
  const completion_tokens = result.attempts.reduce((sum, attempt) => sum + attempt.tokens_out, 0);
  return {
    completion: {
      id: `chatcmpl-${result.request_id}`,
      object: 'chat.completion',
      created,
      model: answer.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: JSON.stringify(answer.data), refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
    },
    headers: {
      'x-sps-request-id': result.request_id,
      'x-sps-validation-status': answer.validation_status,
      'x-sps-provider': answer.provider_used,
      'x-sps-cached': String(answer.cached),
      'x-sps-repaired': String(answer.repaired),
    },
  };
}

/**
 * The completion as OpenAI's server-sent events: one chunk with the role and the whole validated
 * content, one with finish_reason, the usage chunk when asked (stream_options.include_usage), then
 * `data: [DONE]`.
 */
export function toEventStream(completion: ChatCompletionType, includeUsage: boolean): string {
  const { id, created, model } = completion;
  const chunk = (choices: unknown[], usage?: ChatCompletionType['usage']) =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices,
      ...(includeUsage ? { usage: usage ?? null } : {}),
    })}\n\n`;
  const content = completion.choices[0]!.message.content;
  return [
    chunk([{ index: 0, delta: { role: 'assistant', content }, finish_reason: null, logprobs: null }]),
    chunk([{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }]),
    includeUsage ? chunk([], completion.usage) : '',
    'data: [DONE]\n\n',
  ].join('');
}

/**
 * POST /v1/chat/completions: OpenAI's Chat Completions door to the pipeline. The request becomes
 * the same message /v1/analyze builds (same key, admission, limits, cache, coalescing, routing,
 * validation, repair and re-ask), and the answer the chat.completion shape.
 */
export const chatCompletionRoutes: FastifyPluginAsyncTypebox<{
  pipeline: PipelineClient;
  db: Database;
  catalog?: ProviderCatalog;
}> = async (app, { pipeline, catalog = providerCatalog() }) => {
  app.post(
    '/v1/chat/completions',
    {
      schema: {
        tags: ['openai-compatible'],
        summary: 'Structured chat completion (OpenAI-compatible): the validated JSON as the message content',
        description:
          'Headers: `x-sps-request-id` (also the id after `chatcmpl-`), `x-sps-validation-status`, ' +
          '`x-sps-provider`, `x-sps-cached`, `x-sps-repaired`. Errors are the service envelope, whose ' +
          '`error.message` and `error.code` the OpenAI SDKs read.',
        body: ChatCompletionBody,
        response: {
          200: {
            description: 'a chat.completion, or with `stream: true` its server-sent events (chunks)',
            content: {
              'application/json': { schema: ChatCompletion },
              'text/event-stream': { schema: ChatCompletionEvent },
            },
          },
          ...bodyErrors(403, 422, 502, 503, 504),
        },
      },
      preValidation: async (request) => {
        const fields = unsupportedFields(request.body);
        if (fields.length > 0)
          throw new ServiceError('INVALID_REQUEST', fields.map((f) => `${f.field}: ${f.reason}`).join('; '), {
            fields,
          });
      },
    },
    async (request, reply) => {
      const body = request.body;
      const prompt = promptOf(body.messages);
      const schema = schemaOf(body.response_format);
      checkSchemaLimits(schema, 'response_format.json_schema.schema');
      const maxTokens = body.max_tokens ?? body.max_completion_tokens;
      const asked = {
        ...resolveModel(body.model, catalog),
        ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
        ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
      };
      const { options, admitted } = app.admission.begin(request, reply, {
        prompts: 1,
        options: asked,
        field: 'model',
      });
      const message = buildRequest(request.principal, { prompt, format: 'json', schema, options });
      const result = await pipeline.call(
        message,
        message.options?.timeout_ms ?? DEFAULT_TIMEOUT_MS,
        admitted,
      );
      const { completion, headers } = toChatCompletion(result, Math.floor(Date.now() / 1000));
      reply.headers(headers);
      if (body.stream) {
        // The events as text: Fastify sends a string as it is (the schema documents each event).
        const events = toEventStream(completion, body.stream_options?.include_usage === true);
        return reply
          .type('text/event-stream')
          .header('cache-control', 'no-cache')
          .send(events as never);
      }
      return reply.type('application/json').send(completion);
    },
  );
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
