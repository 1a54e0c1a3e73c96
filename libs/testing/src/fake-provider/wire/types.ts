export type FakeProviderName = 'openai' | 'anthropic' | 'gemini';

/** What the fake needs from a request, whichever wire format it came in. */
export interface ParsedRequest {
  model: string;
  /** The native structured-output schema, when the request carried one. */
  schema: Record<string, unknown> | undefined;
  /** Every message's text, system first, in order. */
  texts: string[];
  /** The first user message: what generated answers are derived from. */
  prompt: string;
  raw: unknown;
}

export interface WireFormat {
  parse(body: unknown, url: string): ParsedRequest;
  success(request: ParsedRequest, text: string, usage: { input: number; output: number }): unknown;
  error(status: number, message: string): unknown;
}
