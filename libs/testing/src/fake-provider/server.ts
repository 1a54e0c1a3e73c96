import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fenced, truncated, validAnswer, violatingAnswer } from './answers.js';
import { anthropicWire } from './wire/anthropic.js';
import { geminiWire } from './wire/gemini.js';
import { openaiWire } from './wire/openai.js';
import { checkAnthropicSchema } from './rules/anthropic.js';
import { checkGeminiSchema } from './rules/gemini.js';
import { checkOpenAISchema } from './rules/openai.js';
import type { FakeProviderName, ParsedRequest, WireFormat } from './wire/types.js';

export type { FakeProviderName, ParsedRequest };

/**
 * One scripted answer. Steps are consumed in order; when none is left, `valid` is answered.
 * A step with `forPrompt` is taken only by a call whose messages contain that text, so one
 * request can be scripted while others run beside it.
 */
export type FakeStep = { latencyMs?: number; forPrompt?: string } & (
  | { kind: 'valid' }
  | { kind: 'text'; text: string }
  | { kind: 'fenced' }
  | { kind: 'truncated' }
  | { kind: 'violating' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'hang' }
);

/** A provider's documented schema rules: the violations the real API would answer 400 for. */
export type SchemaRuleCheck = (schema: Record<string, unknown>, raw: unknown) => string[];

export interface FakeProviderOptions {
  /** Latency of every answer that has no latency of its own. */
  latencyMs?: number;
  port?: number;
  ruleChecks?: Partial<Record<FakeProviderName, SchemaRuleCheck>>;
}

/** Each provider's documented schema rules, as the real APIs enforce them (OpenAI only in strict mode). */
export const DEFAULT_RULE_CHECKS: Record<FakeProviderName, SchemaRuleCheck> = {
  openai: (schema, raw) => (openaiStrict(raw) ? checkOpenAISchema(schema) : []),
  anthropic: (schema) => checkAnthropicSchema(schema),
  gemini: (schema) => checkGeminiSchema(schema),
};

function openaiStrict(raw: unknown): boolean {
  return Boolean(
    (raw as { response_format?: { json_schema?: { strict?: boolean } } }).response_format?.json_schema
      ?.strict,
  );
}

const ROUTES: { provider: FakeProviderName; match: RegExp; wire: WireFormat }[] = [
  { provider: 'openai', match: /^\/v1\/chat\/completions(\?|$)/, wire: openaiWire },
  { provider: 'anthropic', match: /^\/v1\/messages(\?|$)/, wire: anthropicWire },
  { provider: 'gemini', match: /^\/v1(beta)?\/models\/[^/:]+:generateContent(\?|$)/, wire: geminiWire },
];

/**
 * A real HTTP server speaking OpenAI chat completions, Anthropic messages and Gemini
 * generateContent, scripted per test and per provider, driven through the official SDKs.
 * Control from another process: POST /__control/script {provider?, steps}, /__control/latency
 * {ms}, /__control/reset; GET /__control/stats.
 */
export class FakeProviderServer {
  private server: Server | undefined;
  private readonly queues = new Map<FakeProviderName | 'any', FakeStep[]>();
  private latencyMs: number;
  private readonly checked = new Map<string, string[]>();
  private readonly callCounts = new Map<FakeProviderName, number>();
  private unanswered = 0;
  private abandoned = 0;
  readonly requests: (ParsedRequest & { provider: FakeProviderName })[] = [];

  constructor(private readonly options: FakeProviderOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('fake provider not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Base URLs as each SDK expects them. */
  get openaiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  get anthropicBaseUrl(): string {
    return this.url;
  }

  get geminiBaseUrl(): string {
    return this.url;
  }

  /** Total calls, or one provider's. */
  get calls(): number {
    return [...this.callCounts.values()].reduce((a, b) => a + b, 0);
  }

  /** Calls received whose answer has not been sent yet (their client is still waiting). */
  get callsInProgress(): number {
    return this.unanswered;
  }

  /** Calls whose client went away (crash, kill, timeout) before their answer was sent. */
  get callsAbandoned(): number {
    return this.abandoned;
  }

  callsFor(provider: FakeProviderName): number {
    return this.callCounts.get(provider) ?? 0;
  }

  requestsFor(provider: FakeProviderName) {
    return this.requests.filter((r) => r.provider === provider);
  }

  /** Steps for whichever provider is called next. */
  script(...steps: FakeStep[]): void {
    this.scriptFor('any', ...steps);
  }

  scriptFor(provider: FakeProviderName | 'any', ...steps: FakeStep[]): void {
    this.queues.set(provider, [...(this.queues.get(provider) ?? []), ...steps]);
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  reset(): void {
    this.queues.clear();
    this.callCounts.clear();
    this.abandoned = 0;
    this.requests.length = 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = req.url ?? '/';
    if (url.startsWith('/__control/')) return this.control(url, body, res);
    const route = req.method === 'POST' ? ROUTES.find((r) => r.match.test(url)) : undefined;
    if (!route) return sendJson(res, 404, { error: { message: `no route ${req.method} ${url}` } });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return sendJson(res, 400, route.wire.error(400, 'request body is not JSON'));
    }
    return this.answer(route.provider, route.wire, route.wire.parse(parsed, url), res);
  }

  private async answer(
    provider: FakeProviderName,
    wire: WireFormat,
    request: ParsedRequest,
    res: ServerResponse,
  ): Promise<void> {
    this.callCounts.set(provider, this.callsFor(provider) + 1);
    this.requests.push({ ...request, provider });
    this.unanswered += 1;
    res.once('close', () => {
      this.unanswered -= 1;
      if (!res.writableFinished) this.abandoned += 1;
    });
    const step = this.nextStep(provider, request);
    if (step.kind === 'hang') return; // the client's timeout must fire
    const latency = step.latencyMs ?? this.latencyMs;
    if (latency > 0) await sleep(latency);
    const violations = request.schema ? this.violations(provider, request) : [];
    if (violations.length > 0) {
      return sendJson(
        res,
        400,
        wire.error(400, `Invalid schema for response_format: ${violations.join('; ')}`),
      );
    }
    if (step.kind === 'status') {
      const headers: Record<string, string> =
        step.retryAfterSeconds === undefined ? {} : { 'retry-after': String(step.retryAfterSeconds) };
      return sendJson(res, step.status, wire.error(step.status, `scripted ${step.status}`), headers);
    }
    const text = this.answerText(step, request);
    const usage = { input: Math.ceil(request.texts.join('').length / 4), output: Math.ceil(text.length / 4) };
    sendJson(res, 200, wire.success(request, text, usage));
  }

  /** The provider's rule check, remembered per schema: benchmarks send the same schema thousands of times. */
  private violations(provider: FakeProviderName, request: ParsedRequest): string[] {
    const check = (this.options.ruleChecks ?? DEFAULT_RULE_CHECKS)[provider];
    if (!check) return [];
    const key = `${provider}:${JSON.stringify(request.schema)}:${openaiStrict(request.raw)}`;
    let found = this.checked.get(key);
    if (!found) {
      found = check(request.schema!, request.raw);
      if (this.checked.size > 1_000) this.checked.clear();
      this.checked.set(key, found);
    }
    return found;
  }

  private nextStep(provider: FakeProviderName, request: ParsedRequest): FakeStep {
    return this.take(provider, request) ?? this.take('any', request) ?? { kind: 'valid' };
  }

  private take(queue: FakeProviderName | 'any', request: ParsedRequest): FakeStep | undefined {
    const steps = this.queues.get(queue);
    const index =
      steps?.findIndex((s) => !s.forPrompt || request.texts.some((t) => t.includes(s.forPrompt!))) ?? -1;
    return index < 0 ? undefined : steps!.splice(index, 1)[0];
  }

  private answerText(step: Exclude<FakeStep, { kind: 'status' | 'hang' }>, request: ParsedRequest): string {
    const valid = () => JSON.stringify(validAnswer(request.schema, request.prompt));
    switch (step.kind) {
      case 'text':
        return step.text;
      case 'fenced':
        return fenced(valid());
      case 'truncated':
        return truncated(valid());
      case 'violating':
        return JSON.stringify(violatingAnswer(request.schema, request.prompt));
      case 'valid':
        return valid();
    }
  }

  private control(url: string, body: string, res: ServerResponse): void {
    const payload = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (url === '/__control/script')
      this.scriptFor((payload.provider as FakeProviderName) ?? 'any', ...(payload.steps as FakeStep[]));
    else if (url === '/__control/latency') this.setLatency(Number(payload.ms));
    else if (url === '/__control/reset') this.reset();
    sendJson(res, 200, { calls: Object.fromEntries(this.callCounts), latency_ms: this.latencyMs });
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
