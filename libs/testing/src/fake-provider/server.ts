import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateInstance } from './generate-instance.js';

/** One scripted answer. Steps are consumed in order; when none is left, `valid` is answered. */
export type FakeStep =
  | { kind: 'valid'; latencyMs?: number }
  | { kind: 'text'; text: string; latencyMs?: number }
  | { kind: 'status'; status: number; retryAfterSeconds?: number; latencyMs?: number }
  | { kind: 'hang' };

export interface FakeProviderOptions {
  /** Latency of every answer that has no latency of its own. */
  latencyMs?: number;
  port?: number;
}

interface ChatRequest {
  model?: string;
  messages?: { role: string; content: string }[];
  response_format?: { type: string; json_schema?: { schema?: Record<string, unknown> } };
}

/**
 * A real HTTP server speaking the OpenAI chat-completions wire format, scripted per test.
 * It is driven through the official SDKs, exactly as a real provider would be. Control from
 * another process: POST /__control/script, /__control/latency, /__control/reset; GET /__control/stats.
 */
export class FakeProviderServer {
  private server: Server | undefined;
  private steps: FakeStep[] = [];
  private latencyMs: number;
  private readonly requestedPort: number;
  calls = 0;
  readonly requests: ChatRequest[] = [];

  constructor(options: FakeProviderOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.requestedPort = options.port ?? 0;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('fake provider not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Base URL for the OpenAI SDK. */
  get openaiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  script(...steps: FakeStep[]): void {
    this.steps.push(...steps);
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  reset(): void {
    this.steps = [];
    this.calls = 0;
    this.requests.length = 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(this.requestedPort, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.url?.startsWith('/__control/')) return this.control(req.url, body, res);
    if (req.method === 'POST' && req.url === '/v1/chat/completions') return this.chatCompletion(JSON.parse(body) as ChatRequest, res);
    sendJson(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
  }

  private control(url: string, body: string, res: ServerResponse): void {
    if (url === '/__control/script') this.script(...(JSON.parse(body) as FakeStep[]));
    else if (url === '/__control/latency') this.setLatency(Number(JSON.parse(body).ms));
    else if (url === '/__control/reset') this.reset();
    sendJson(res, 200, { calls: this.calls, pending_steps: this.steps.length, latency_ms: this.latencyMs });
  }

  private async chatCompletion(request: ChatRequest, res: ServerResponse): Promise<void> {
    this.calls += 1;
    this.requests.push(request);
    const step = this.steps.shift() ?? { kind: 'valid' };
    if (step.kind === 'hang') return; // the client's timeout must fire
    await sleep(step.latencyMs ?? this.latencyMs);
    if (step.kind === 'status') {
      const headers: Record<string, string> =
        step.retryAfterSeconds === undefined ? {} : { 'retry-after': String(step.retryAfterSeconds) };
      return sendJson(res, step.status, { error: { message: `scripted ${step.status}`, type: 'server_error' } }, headers);
    }
    const text = step.kind === 'text' ? step.text : JSON.stringify(this.answerFor(request));
    sendJson(res, 200, {
      id: `chatcmpl-fake-${this.calls}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? 'fake-model',
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: estimateTokens(request), completion_tokens: Math.ceil(text.length / 4), total_tokens: 0 },
    });
  }

  private answerFor(request: ChatRequest): unknown {
    const schema = request.response_format?.json_schema?.schema ?? { type: 'object' };
    const prompt = request.messages?.find((m) => m.role === 'user')?.content ?? '';
    const instance = generateInstance(schema);
    if (isAnalysisSchema(schema) && instance && typeof instance === 'object') {
      return { ...instance, ...analysisOf(prompt) };
    }
    return instance;
  }
}

function isAnalysisSchema(schema: Record<string, unknown>): boolean {
  const properties = schema.properties as Record<string, unknown> | undefined;
  return Boolean(properties?.intent && properties.entities && properties.original_language);
}

/** A plausible analysis, so that the walking skeleton's answer reads like one. */
function analysisOf(prompt: string) {
  const words = prompt.split(/\s+/).filter(Boolean);
  const details = prompt.match(/[#\w$.,:-]*\d[\w$.,:-]*/g) ?? [];
  return {
    intent: (words[0] ?? 'analyze').toLowerCase().replace(/[^a-z]/g, '') || 'analyze',
    subject: words.slice(1, 4).join(' ') || 'prompt',
    entities: { key_details: details.slice(0, 10), source: null, target: null },
    original_language: 'en',
    confidence: 0.9,
  };
}

function estimateTokens(request: ChatRequest): number {
  return Math.ceil((request.messages ?? []).reduce((n, m) => n + m.content.length, 0) / 4);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
