import { Type, type Static } from '@sinclair/typebox';
import { LIMITS, PromptOptions, UserSchema } from '@sps/contracts';
import { notBoth } from './common.js';

/**
 * The OpenAI-compatible door (POST /v1/chat/completions, GET /v1/models): the subset of OpenAI's
 * Chat Completions API this service honours. Every other OpenAI parameter is refused by name
 * (400 INVALID_REQUEST naming the field), never silently ignored.
 */

const MESSAGE_TEXT = Type.String({ minLength: 1, maxLength: LIMITS.promptMaxChars, pattern: '\\S' });

export const ChatTextPart = Type.Object(
  { type: Type.Literal('text'), text: MESSAGE_TEXT },
  { additionalProperties: false, description: 'text only: image, audio, file and refusal parts are refused' },
);

export const ChatMessage = Type.Object(
  {
    role: Type.Union(
      [Type.Literal('system'), Type.Literal('developer'), Type.Literal('user'), Type.Literal('assistant')],
      { description: 'tool and function messages are refused (tools are not supported)' },
    ),
    content: Type.Union([MESSAGE_TEXT, Type.Array(ChatTextPart, { minItems: 1, maxItems: 64 })]),
    name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof ChatMessage>;

export const JsonSchemaFormat = Type.Object(
  {
    type: Type.Literal('json_schema'),
    json_schema: Type.Object(
      {
        name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
        description: Type.Optional(
          Type.String({
            maxLength: 1000,
            description: "given to the model as the schema's description (when the schema has none)",
          }),
        ),
        schema: UserSchema,
        strict: Type.Optional(
          Type.Union([Type.Boolean(), Type.Null()], {
            description: 'accepted; every answer is validated against the schema whatever its value',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'JsonSchemaFormat' },
);

export const JsonObjectFormat = Type.Object(
  { type: Type.Literal('json_object') },
  { additionalProperties: false, title: 'JsonObjectFormat', description: 'any JSON object' },
);

export const ChatCompletionBody = Type.Object(
  {
    model: Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'a configured provider with a model (`openai/gpt-4o-mini`; the model part overrides the ' +
        "provider's configured one), a provider name (`openai`: its configured model), the configured " +
        'model of a provider (`gpt-4o-mini`), or a routing alias over every configured provider with ' +
        'fallback: `auto` (the configured policy), `auto/priority`, `auto/latency`, `auto/cost`, ' +
        '`auto/least-busy`. GET /v1/models lists them.',
    }),
    messages: Type.Array(ChatMessage, {
      minItems: 1,
      maxItems: 100,
      description:
        'one user message is the prompt as it is; otherwise the messages in order, each as a ' +
        '`System:` (system and developer), `User:` or `Assistant:` block, separated by blank lines. ' +
        `The prompt made of them is at most ${LIMITS.promptMaxChars} characters (else 400 naming messages).`,
    }),
    response_format: Type.Optional(
      Type.Union([JsonSchemaFormat, JsonObjectFormat], {
        description:
          'json_schema: the answer satisfies the schema; json_object: any JSON object; absent: the ' +
          'default analysis (intent, subject, entities, confidence), as /v1/analyze without a schema. ' +
          'The answer is the validated JSON text of choices[0].message.content.',
      }),
    ),
    temperature: Type.Optional(
      Type.Number({ minimum: 0, maximum: PromptOptions.properties.temperature.maximum }),
    ),
    max_tokens: Type.Optional(
      Type.Integer({
        minimum: PromptOptions.properties.max_tokens.minimum,
        maximum: PromptOptions.properties.max_tokens.maximum,
        description: 'per provider call',
      }),
    ),
    max_completion_tokens: Type.Optional(
      Type.Integer({
        minimum: PromptOptions.properties.max_tokens.minimum,
        maximum: PromptOptions.properties.max_tokens.maximum,
        description: 'the same as max_tokens',
      }),
    ),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 1, description: 'one choice only' })),
    stream: Type.Optional(
      Type.Boolean({
        description:
          'server-sent events in the chunk format: the whole validated content in one delta, a chunk ' +
          'with finish_reason, the usage chunk when stream_options.include_usage, then [DONE]',
      }),
    ),
    stream_options: Type.Optional(
      Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'OpenAI Chat Completions, structured: goes through the pipeline like /v1/analyze. Other ' +
      'OpenAI parameters (tools, logprobs, n > 1, top_p, stop, seed, ...) are refused by name.',
    allOf: [
      notBoth('max_tokens', 'max_completion_tokens'),
      {
        not: {
          required: ['stream_options'],
          properties: { stream: { not: { const: true } } },
          description: 'is only allowed when stream is true',
        },
      },
    ],
    examples: [
      {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'Book a table for two at Luigi on Friday at 8pm' }],
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'booking',
            strict: true,
            schema: {
              type: 'object',
              required: ['restaurant', 'people'],
              properties: { restaurant: { type: 'string' }, people: { type: 'integer' } },
            },
          },
        },
      },
    ],
  },
);
export type ChatCompletionBody = Static<typeof ChatCompletionBody>;

export const ChatCompletionUsage = Type.Object(
  {
    prompt_tokens: Type.Integer({ minimum: 0 }),
    completion_tokens: Type.Integer({ minimum: 0 }),
    total_tokens: Type.Integer({ minimum: 0 }),
  },
  { description: 'summed over every provider attempt (re-asks included); 0 for a cached answer' },
);

export const ChatCompletion = Type.Object(
  {
    id: Type.String({ description: 'chatcmpl-<request id>; GET /v1/requests/{id} reads it' }),
    object: Type.Literal('chat.completion'),
    created: Type.Integer({ description: 'Unix seconds' }),
    model: Type.String({ description: 'the model that answered' }),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer(),
        message: Type.Object({
          role: Type.Literal('assistant'),
          content: Type.String({ description: 'the validated JSON text' }),
          refusal: Type.Null(),
        }),
        finish_reason: Type.Literal('stop'),
        logprobs: Type.Null(),
      }),
      { minItems: 1, maxItems: 1 },
    ),
    usage: ChatCompletionUsage,
  },
  { title: 'ChatCompletion' },
);
export type ChatCompletion = Static<typeof ChatCompletion>;

/** One server-sent event of a streamed completion (OpenAPI 3.1: the schema of each event). */
export const ChatCompletionEvent = Type.Object(
  {
    data: Type.String({
      description:
        'a chat.completion.chunk as JSON (object, id, created, model, choices[].delta, finish_reason, ' +
        'usage), or `[DONE]` last',
    }),
    event: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    retry: Type.Optional(Type.Integer()),
  },
  { title: 'ChatCompletionEvent' },
);

export const ModelList = Type.Object(
  {
    object: Type.Literal('list'),
    data: Type.Array(
      Type.Object({
        id: Type.String(),
        object: Type.Literal('model'),
        created: Type.Integer(),
        owned_by: Type.String({ description: 'the provider, or `sps` for a routing alias' }),
      }),
    ),
  },
  { title: 'ModelList' },
);
export type ModelList = Static<typeof ModelList>;
