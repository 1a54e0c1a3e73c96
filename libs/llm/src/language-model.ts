/**
 * The one narrow contract between the engine and every provider. Adapters translate it to their
 * SDK, including the provider's native structured-output mode; the engine never sees an SDK.
 */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface GenerateRequest {
  system: string;
  messages: ChatMessage[];
  /** The caller's full JSON Schema; the adapter maps it to what its provider accepts. */
  schema: Record<string, unknown>;
  schemaName: string;
  temperature: number;
  maxTokens: number;
  signal: AbortSignal;
}

export interface GenerateResult {
  text: string;
  tokensIn: number;
  tokensOut: number;
  model: string;
  finishReason: 'stop' | 'length' | 'other';
}

export interface LanguageModel {
  /** Configured name, e.g. `openai` or `local-vllm`. */
  readonly provider: string;
  readonly model: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
}
