import type { KafkaMessage } from 'kafkajs';

/** One consumed record as handlers see it: no client types, headers as strings. */
export interface ConsumedRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp (ms since the epoch). */
  timestamp: number;
  key: string | null;
  headers: Record<string, string>;
  value: T;
}

export type RawRecord = ConsumedRecord<Buffer | null> & { rawKey: Buffer | null };

export function toRawRecord(message: KafkaMessage, topic: string, partition: number): RawRecord {
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(raw) ? raw[0] : raw;
    if (first !== undefined) headers[name] = first.toString();
  }
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key?.toString() ?? null,
    rawKey: message.key ?? null,
    headers,
    value: message.value,
  };
}

/** The decoder of a runner: turns raw bytes into the handler's value, or throws PermanentError. */
export type Decoder<T> = (record: RawRecord) => T;
