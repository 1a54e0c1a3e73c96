import type { WireFormat } from './types.js';

interface MessagesBody {
  model?: string;
  system?: string | { text: string }[];
  messages?: { role: string; content: string | { type: string; text?: string }[] }[];
  output_config?: { format?: { type: string; schema?: Record<string, unknown> } };
}

const textOf = (content: string | { type: string; text?: string }[]) =>
  typeof content === 'string' ? content : content.map((block) => block.text ?? '').join('');

/** Anthropic Messages API with structured outputs (`output_config.format`). */
export const anthropicWire: WireFormat = {
  parse(body) {
    const request = body as MessagesBody;
    const messages = request.messages ?? [];
    const system =
      typeof request.system === 'string'
        ? request.system
        : (request.system ?? []).map((b) => b.text).join('');
    return {
      model: request.model ?? 'fake-model',
      schema:
        request.output_config?.format?.type === 'json_schema'
          ? request.output_config.format.schema
          : undefined,
      texts: [system, ...messages.map((m) => textOf(m.content))],
      prompt: textOf(messages.find((m) => m.role === 'user')?.content ?? ''),
      raw: body,
    };
  },
  success(request, text, usage) {
    return {
      id: `msg_fake_${Date.now()}`,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    };
  },
  error(status, message) {
    const type =
      status === 429
        ? 'rate_limit_error'
        : status === 529
          ? 'overloaded_error'
          : status >= 500
            ? 'api_error'
            : 'invalid_request_error';
    return { type: 'error', error: { type, message } };
  },
};
