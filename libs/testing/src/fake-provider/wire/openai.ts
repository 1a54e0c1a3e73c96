import type { WireFormat } from './types.js';

interface ChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  response_format?: { type: string; json_schema?: { schema?: Record<string, unknown> } };
}

/** OpenAI chat completions (also what OpenAI-compatible servers speak). */
export const openaiWire: WireFormat = {
  parse(body) {
    const chat = body as ChatBody;
    const messages = chat.messages ?? [];
    return {
      model: chat.model ?? 'fake-model',
      schema:
        chat.response_format?.type === 'json_schema' ? chat.response_format.json_schema?.schema : undefined,
      texts: messages.map((m) => m.content),
      prompt: messages.find((m) => m.role === 'user')?.content ?? '',
      raw: body,
    };
  },
  success(request, text, usage) {
    return {
      id: `chatcmpl-fake-${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: usage.input,
        completion_tokens: usage.output,
        total_tokens: usage.input + usage.output,
      },
    };
  },
  error(status, message) {
    return {
      error: {
        message,
        type:
          status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error',
        code: null,
      },
    };
  },
};
