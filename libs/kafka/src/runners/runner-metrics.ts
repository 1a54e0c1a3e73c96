import { Gauge, type Registry } from 'prom-client';

/** Gets the registry's metric of that name, or registers it (several runners share one registry). */
function shared<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * What a runner reports to Prometheus when given a registry: consumer lag per group and partition
 * (from the fetched batch's high watermark) and, for the concurrent runner, records in flight per
 * group. Without a registry every call is a no-op.
 */
export class RunnerMetrics {
  private readonly lag: Gauge<'group' | 'topic' | 'partition'> | undefined;
  private readonly inFlight: Gauge<'group'> | undefined;

  constructor(
    registry: Registry | undefined,
    private readonly group: string,
    /** Whether the runner reports records in flight (the concurrent runner does). */
    tracksInFlight = false,
  ) {
    if (!registry) return;
    const registers = [registry];
    this.lag = shared(
      registry,
      'sps_kafka_consumer_lag',
      () =>
        new Gauge({
          name: 'sps_kafka_consumer_lag',
          help: 'records between the consumer position and the high watermark, per group and partition',
          labelNames: ['group', 'topic', 'partition'],
          registers,
        }),
    );
    if (!tracksInFlight) return;
    this.inFlight = shared(
      registry,
      'sps_kafka_records_in_flight',
      () =>
        new Gauge({
          name: 'sps_kafka_records_in_flight',
          help: 'records being handled by this instance, per group',
          labelNames: ['group'],
          registers,
        }),
    );
    this.inFlight.set({ group }, 0);
  }

  /** `lag` as kafkajs gives it (a string; negative values, as for an empty partition, count as 0). */
  recordLag(topic: string, partition: number, lag: () => string): void {
    if (!this.lag) return;
    const value = Number(lag());
    this.lag.set(
      { group: this.group, topic, partition: String(partition) },
      Number.isFinite(value) ? Math.max(0, value) : 0,
    );
  }

  recordInFlight(count: number): void {
    this.inFlight?.set({ group: this.group }, count);
  }
}
