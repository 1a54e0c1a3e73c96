import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';

export interface HttpClientOptions {
  /** Connections kept to the provider's origin at most (further requests wait for one). */
  connections?: number;
  /** undici's own header and body timeouts: a backstop under the router's per-call timeout. */
  timeoutMs?: number;
}

/**
 * One provider client's HTTP transport: the `undici` package's fetch over an Agent of its own
 * (keep-alive, bounded connections, no pipelining), instead of Node's global fetch and global
 * dispatcher. Made where the SDK client is made, closed with it.
 *
 * `fetchOptions` is merged by the SDKs into every request's init: besides the dispatcher it sets
 * `window: null` and `redirect: 'error'`, the one combination under which fetch skips cloning the
 * request (`cloneRequest` tees the body stream of every call otherwise). LLM APIs answer a POST
 * without redirecting; a redirect fails the call as a network error.
 *
 * Measured with bench/provider-call.ts (OpenAI SDK, fake provider at latency 0, the per-call
 * signal of ResilientProvider in every variant; CPU µs per call at concurrency 1 / 64): global
 * fetch ≈ 420–650 / 440–450, global fetch without the clone ≈ 450 / 420, global fetch with this
 * Agent as dispatcher ≈ 490 / 490, this fetch and Agent with the clone ≈ 480 / 480, this fetch and
 * Agent without the clone ≈ 380 / 350.
 */
export interface HttpClient {
  fetch: typeof globalThis.fetch;
  fetchOptions: ClientFetchOptions;
  /** The fetch with the client's options applied (for SDKs that take a fetch but no request options). */
  fetchWithOptions: typeof globalThis.fetch;
  close(): Promise<void>;
}

/**
 * Typed as the SDKs take it (Node's own undici types); the dispatcher is the `undici` package's,
 * which is why the `undici` package's fetch is used with it.
 */
export type ClientFetchOptions = Pick<RequestInit, 'dispatcher' | 'window' | 'redirect'>;

export const DEFAULT_CONNECTIONS = 256;

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
  const fetchOptions: ClientFetchOptions = {
    dispatcher: agent as unknown as RequestInit['dispatcher'],
    window: null,
    redirect: 'error',
  };
  const fetch = undiciFetch as unknown as typeof globalThis.fetch;
  let closed: Promise<void> | undefined;
  return {
    fetch,
    fetchOptions,
    fetchWithOptions: (input, init) =>
      undiciFetch(input as Parameters<typeof undiciFetch>[0], {
        ...(init as UndiciRequestInit),
        ...(fetchOptions as UndiciRequestInit),
      }) as unknown as Promise<Response>,
    close: () => (closed ??= agent.close()),
  };
}
