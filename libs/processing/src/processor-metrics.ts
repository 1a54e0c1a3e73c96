import { Counter, Histogram, type Registry } from 'prom-client';
import { unpricedCallCounts } from '@sps/llm';

export class ProcessorMetrics {
  readonly requests: Counter<'status' | 'code'>;
  readonly duration: Histogram<'status'>;
  readonly cache: Counter<'outcome'>;
  readonly deadLetters: Counter;
  readonly providerCalls: Counter<'provider' | 'outcome'>;
  readonly tokens: Counter<'provider' | 'direction'>;
  readonly unpricedCalls: Counter<'provider' | 'model'>;

  constructor(registry: Registry) {
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
    this.cache = new Counter({
      name: 'sps_cache_requests_total',
      help: 'cache lookups by outcome',
      labelNames: ['outcome'],
      registers,
    });
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
  }
}
