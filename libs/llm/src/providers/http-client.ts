import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Agent, fetch as undiciFetch, type Dispatcher, type RequestInit as UndiciRequestInit } from 'undici';

export interface HttpClientOptions {
  /** Connections kept to the provider's origin at most (further requests wait for one). */
  connections?: number;
  /** undici's own header and body timeouts: a backstop under the router's per-call timeout. */
  timeoutMs?: number;
}

/**
 * One provider client's HTTP transport, handed to the official SDKs through their `fetch` option:
 * a fetch-compatible function over `undici`'s `Agent.request` (keep-alive, bounded connections, no
 * pipelining) that answers with a standard `Response`. Made where the SDK client is made, closed
 * with it.
 *
 * Why not fetch itself: WHATWG fetch costs the calling process more than the SDK's own work — a
 * Request object and its signal plumbing, the socket's Node stream bridged into a web stream
 * (`makeTransferable`, a reader per chunk), the response body consumed through that stream. LLM
 * APIs need none of it: a JSON POST answered with JSON, or with server-sent events. So a JSON answer
 * is read from the socket in one piece and given to the SDK as a `Response` over those bytes, and
 * only an event stream is bridged to a web stream (the SDK reads it incrementally).
 * bench/provider-call.ts (fake provider at latency 0, CPU µs per call at concurrency 1 / 64, the
 * previous transport — undici's fetch over this Agent, skipping the request clone — against this
 * one, run alternately on a busy machine): OpenAI SDK 757–819 / 426–446 → 539–600 / 177–223,
 * Anthropic 911 / 434 → 652 / 248, Gemini 824 / 353 → 587 / 200.
 *
 * What fetch would do and this does too: a redirect fails the call (`redirect: 'error'`; LLM APIs
 * answer a POST without redirecting), an aborted signal rejects with the signal's reason, a network
 * failure rejects with `TypeError('fetch failed', { cause })` (the SDKs map both to their
 * connection errors), a compressed answer is decompressed. A body fetch would stream (a
 * ReadableStream, FormData, a Blob) goes through undici's fetch unchanged.
 */
export interface HttpClient {
  fetch: typeof globalThis.fetch;
  /** Request options the SDKs merge into every call (none are needed; kept for the SDKs' option). */
  fetchOptions: ClientFetchOptions;
  /** The same fetch (for SDKs that take a fetch but no request options). */
  fetchWithOptions: typeof globalThis.fetch;
  close(): Promise<void>;
}

export type ClientFetchOptions = Pick<RequestInit, 'dispatcher' | 'window' | 'redirect'>;

export const DEFAULT_CONNECTIONS = 256;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const agent = new Agent({
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  let closed: Promise<void> | undefined;
  const fetch = ((input, init) => leanFetch(agent, input, init)) as typeof globalThis.fetch;
  return {
    fetch,
    fetchOptions: {},
    fetchWithOptions: fetch,
    close: () => (closed ??= agent.close()),
  };
}

type Input = Parameters<typeof globalThis.fetch>[0];

async function leanFetch(agent: Agent, input: Input, init: RequestInit = {}): Promise<Response> {
  const body = plainBody(init.body);
  if (body === undefined || input instanceof Request) {
    // Not a plain body (or a Request object): fetch's own path, over the same connections.
    return undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as UndiciRequestInit),
      dispatcher: agent,
      redirect: 'error',
    }) as unknown as Promise<Response>;
  }
  const url = typeof input === 'string' ? new URL(input) : input;
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  let response: Dispatcher.ResponseData;
  try {
    response = await agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
      headers: flatHeaders(init.headers),
      body,
      signal,
    });
  } catch (error) {
    throw failure(error, signal);
  }
  const { statusCode: status, headers: raw } = response;
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  if (status >= 300 && status < 400 && headers.has('location')) {
    discard(response.body);
    throw new TypeError('fetch failed', { cause: new Error(`redirect (${status}) refused`) });
  }
  if (NULL_BODY_STATUS.has(status)) {
    discard(response.body);
    return new Response(null, { status, headers });
  }
  const encoding = headers.get('content-encoding');
  const stream = decoded(response.body, encoding);
  if (stream !== response.body) headers.delete('content-encoding');
  if (headers.get('content-type')?.includes('text/event-stream')) {
    // Read as it arrives; the SDK iterates it.
    return new Response(Readable.toWeb(stream) as ReadableStream, { status, headers });
  }
  let bytes: Buffer;
  try {
    bytes = await readAll(stream);
  } catch (error) {
    throw failure(error, signal);
  }
  return new BufferedResponse(bytes, { status, headers }) as unknown as Response;
}

// Response's members are declared as properties in the DOM types, which a subclass may not
// override with methods; at run time they are accessors and methods of Response.prototype.
const ResponseBase = Response as unknown as new (
  body: null,
  init: ResponseInit,
) => {
  readonly headers: Headers;
  readonly status: number;
  readonly statusText: string;
};

/** As fetch decodes a body: UTF-8, a leading byte order mark dropped, malformed bytes replaced. */
const UTF8 = new TextDecoder();

/**
 * A standard Response over bytes already read, that hands them over without a web stream. Built
 * with a body, undici's Response wraps it in a ReadableStream (on Node 20 each one is made
 * transferable, `makeTransferable`) and `json()` reads it back through a reader: 2.4 % and 2.2 % of
 * the processor's busy main thread in a bench:kafka profile, per call, for bytes already in memory.
 * The SDKs read a non-streamed answer with `json()` or `text()` (openai's and anthropic's
 * defaultParseResponse, @google/genai's); `body` is still there for whoever asks, made on demand
 * (Anthropic's SDK asks on every call, to arm a garbage-collection backstop, so it saves less).
 * bench/provider-call.ts, CPU µs per call, this machine, old and new run alternately: OpenAI SDK
 * at 64 calls at once 649, 588 → 263, 384; one at a time 662, 727 → 533, 416; Gemini 625 → 327.
 */
class BufferedResponse extends ResponseBase {
  readonly #bytes: Buffer;
  #used = false;
  #stream: ReadableStream<Uint8Array> | null | undefined;

  constructor(bytes: Buffer, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
  }

  /** Made when first asked for (Anthropic's SDK asks on every call): reading it uses the body. */
  get body(): ReadableStream<Uint8Array> | null {
    this.#stream ??= new Response(this.#bytes).body;
    return this.#stream;
  }

  get bodyUsed(): boolean {
    // Readable.isDisturbed is typed for Node streams; it answers for web streams too
    return (
      this.#used ||
      (this.#stream ? this.#stream.locked || Readable.isDisturbed(this.#stream as never) : false)
    );
  }

  async text(): Promise<string> {
    return UTF8.decode(await this.#take());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.#take()], { type: this.headers.get('content-type') ?? '' });
  }

  clone(): Response {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.#bytes, {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
    }) as unknown as Response;
  }

  /** The bytes, once, as fetch reads a body once: through the stream if one was handed out. */
  async #take(): Promise<Buffer> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    if (!this.#stream) return this.#bytes;
    return Buffer.from(await new Response(this.#stream).arrayBuffer());
  }
}

/** The body as undici.request takes it, or undefined when only fetch can send it. */
function plainBody(body: RequestInit['body']): string | Uint8Array | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return undefined;
}

function flatHeaders(headers: RequestInit['headers']): string[] {
  const flat: string[] = [];
  if (!headers) return flat;
  if (headers instanceof Headers || Array.isArray(headers)) {
    for (const [name, value] of headers as Iterable<[string, string]>) flat.push(name, value);
  } else {
    for (const [name, value] of Object.entries(headers))
      if (value !== undefined && value !== null) flat.push(name, String(value));
  }
  return flat;
}

function decoded(body: Readable, encoding: string | null): Readable {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return body.pipe(createGunzip());
    case 'deflate':
      return body.pipe(createInflate());
    case 'br':
      return body.pipe(createBrotliDecompress());
    default:
      return body;
  }
}

/** Frees the connection: what is left of an unread body is read and dropped (or the socket closed). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.dump().catch(() => undefined);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** As fetch rejects: the signal's reason once aborted, else a TypeError naming the cause. */
function failure(error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  if (error instanceof Error && error.name === 'AbortError') return error;
  return new TypeError('fetch failed', { cause: error });
}
