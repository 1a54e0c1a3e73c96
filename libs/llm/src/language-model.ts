/**
 * The one narrow contract between the engine and every provider. Adapters translate it to their
 * SDK, including the provider's native structured-output mode; the engine never sees an SDK.
 */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * A caller's schema mapped to what one provider accepts natively. Never over-constrains: what
 * cannot be expressed is dropped (the final validation still enforces the original), and an
 * optional property the provider needs as required becomes nullable, its null removed by restore.
 */
export interface SchemaTransform {
  /** The schema to send natively, or undefined when the provider can't take it (JSON mode + prompt). */
  providerSchema: Record<string, unknown> | undefined;
  /** Maps an answer given under providerSchema back to the original's shape (unwrap root, drop added nulls). */
  restore(instance: unknown): unknown;
  /** Human-readable list of what was dropped or rewritten. */
  notes: string[];
  /**
   * The forward mapping, inverse of restore: an instance of the original schema in the provider
   * schema's shape (wrapped root, absent optional properties as null). Used by tests.
   */
  encode?(instance: unknown): unknown;
}

export type SchemaTransformer = (schema: Record<string, unknown>) => SchemaTransform;

export interface GenerateRequest {
  system: string;
  messages: ChatMessage[];
  /** The caller's schema as transformed for this provider by its own `transformSchema`. */
  schema: SchemaTransform;
  schemaName: string;
  /** Overrides the adapter's configured model. */
  model?: string;
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
  /** Pure and deterministic; the engine caches it per schema. */
  transformSchema: SchemaTransformer;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Releases what the model holds (its HTTP connections, a loaded model); called on shutdown. */
  close?(): Promise<void>;
}
