import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { cacheLookupCounter } from './answer-cache.js';
import { costUsd, unpricedCallCounts, type PriceTable, type ProviderRouter } from '@sps/llm';

/** The configured providers, for per-call latency and cost, breaker state and calls in flight. */
export interface ProviderMetricsSource {
  router: ProviderRouter;
  prices: PriceTable;
}

export class ProcessorMetrics {
  readonly requests: Counter<'status' | 'code'>;
  readonly duration: Histogram<'status'>;
  readonly cache: Counter<'stage' | 'outcome'>;
  readonly deadLetters: Counter;
  readonly providerCalls: Counter<'provider' | 'outcome'>;
  readonly tokens: Counter<'provider' | 'direction'>;
  readonly unpricedCalls: Counter<'provider' | 'model'>;
  readonly providerLatency: Histogram<'provider' | 'outcome'>;
  readonly cost: Counter<'provider' | 'model'>;
  readonly breakerOpen: Gauge<'provider'>;
  readonly providerInFlight: Gauge<'provider'>;

  constructor(registry: Registry, providers?: ProviderMetricsSource) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'sps_processor_requests_total',
      help: 'requests finished',
      labelNames: ['status', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'sps_processor_request_duration_seconds',
      help: 'time from dequeue to result produced',
      labelNames: ['status'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    this.cache = cacheLookupCounter(registry);
    this.deadLetters = new Counter({
      name: 'sps_processor_dead_letters_total',
      help: 'messages sent to the DLQ',
      registers,
    });
    this.providerCalls = new Counter({
      name: 'sps_llm_calls_total',
      help: 'provider calls by outcome',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.tokens = new Counter({
      name: 'sps_llm_tokens_total',
      help: 'tokens by direction',
      labelNames: ['provider', 'direction'],
      registers,
    });
    // Priced where each attempt is recorded (the engine, @sps/llm): read from its tally at scrape time,
    // so every call is counted, failed requests' attempts included.
    this.unpricedCalls = new Counter({
      name: 'sps_llm_unpriced_calls_total',
      help: 'provider calls of a model without a price (recorded with cost_usd 0 and unpriced: true)',
      labelNames: ['provider', 'model'],
      registers,
      collect() {
        this.reset();
        for (const { provider, model, calls } of unpricedCallCounts()) this.inc({ provider, model }, calls);
      },
    });
    this.providerLatency = new Histogram({
      name: 'sps_llm_call_duration_seconds',
      help: 'duration of one provider call (each retry counts), by outcome (ok or the error class)',
      labelNames: ['provider', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
      registers,
    });
    this.cost = new Counter({
      name: 'sps_llm_cost_usd_total',
      help: 'provider spend in USD at list prices (unpriced models count 0, see sps_llm_unpriced_calls_total)',
      labelNames: ['provider', 'model'],
      registers,
    });
    const list = providers?.router.providers ?? [];
    this.breakerOpen = new Gauge({
      name: 'sps_llm_circuit_open',
      help: '1 while the provider circuit breaker is open (calls are not attempted), else 0',
      labelNames: ['provider'],
      registers,
      collect() {
        for (const provider of list) this.set({ provider: provider.name }, provider.isOpen ? 1 : 0);
      },
    });
    this.providerInFlight = new Gauge({
      name: 'sps_llm_calls_in_flight',
      help: 'provider calls under way',
      labelNames: ['provider'],
      registers,
      collect() {
        for (const provider of list) this.set({ provider: provider.name }, provider.inFlight);
      },
    });
    if (providers) this.observeCalls(providers);
  }

  /** Every underlying call of each provider (retries included) is timed and priced as it ends. */
  private observeCalls({ router, prices }: ProviderMetricsSource): void {
    for (const provider of router.providers) {
      const call = provider.call.bind(provider);
      this.providerLatency.zero({ provider: provider.name, outcome: 'ok' });
      provider.call = (request, onCall) =>
        call(request, (outcome) => {
          const label = outcome.error ? outcome.error.errorClass : 'ok';
          this.providerLatency.observe({ provider: provider.name, outcome: label }, outcome.latencyMs / 1000);
          const result = outcome.result;
          if (result) {
            const model = result.model ?? provider.model.model;
            this.cost.inc(
              { provider: provider.name, model },
              costUsd(prices, model, result.tokensIn ?? 0, result.tokensOut ?? 0),
            );
          }
          onCall(outcome);
        });
    }
  }
}
