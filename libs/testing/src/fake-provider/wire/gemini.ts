import type { WireFormat } from './types.js';

interface GenerateContentBody {
  contents?: { role?: string; parts?: { text?: string }[] }[];
  systemInstruction?: { parts?: { text?: string }[] };
  generationConfig?: {
    responseJsonSchema?: Record<string, unknown>;
    responseSchema?: Record<string, unknown>;
  };
}

const partsText = (parts: { text?: string }[] | undefined) => (parts ?? []).map((p) => p.text ?? '').join('');
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** Gemini generateContent (`/v1beta/models/{model}:generateContent`). */
export const geminiWire: WireFormat = {
  parse(body, url) {
    const request = body as GenerateContentBody;
    const contents = request.contents ?? [];
    return {
      model: /models\/([^:]+):/.exec(url)?.[1] ?? 'fake-model',
      schema: request.generationConfig?.responseJsonSchema ?? request.generationConfig?.responseSchema,
      texts: [partsText(request.systemInstruction?.parts), ...contents.map((c) => partsText(c.parts))],
      prompt: partsText(contents.find((c) => (c.role ?? 'user') === 'user')?.parts),
      raw: body,
    };
  },
  success(request, text, usage) {
    return {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: usage.input,
        candidatesTokenCount: usage.output,
        totalTokenCount: usage.input + usage.output,
      },
      modelVersion: request.model,
    };
  },
  error(status, message) {
    const details =
      status === 429 ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' }] : [];
    return { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN', details } };
  },
};
