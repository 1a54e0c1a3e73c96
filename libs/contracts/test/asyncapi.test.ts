import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { HEADERS, TOPICS, buildAsyncApiDocument } from '../src/index.js';

describe('AsyncAPI document', () => {
  const document = buildAsyncApiDocument({ version: '1.2.3' });

  it('is a valid AsyncAPI 3 document (no diagnostic of severity error)', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(parsed).toBeDefined();
    expect(parsed!.version()).toBe('3.0.0');
  }, 60_000);

  it('has a channel for every topic, with its partitions', () => {
    const channels = document.channels as Record<
      string,
      { address: string; bindings: { kafka: { partitions: number } } }
    >;
    for (const [key, spec] of Object.entries(TOPICS)) {
      expect(channels[key]?.address, key).toBe(spec.name);
      expect(channels[key]?.bindings.kafka.partitions).toBe(spec.partitions);
    }
  });

  it('describes request-reply with the address taken from the reply-topic header', () => {
    const operations = document.operations as Record<string, { reply?: { address: { location: string } } }>;
    expect(operations.submitRequest?.reply?.address.location).toBe(`$message.header#/${HEADERS.replyTopic}`);
  });

  it('prefixes channel addresses with the deployment prefix', () => {
    const prefixed = buildAsyncApiDocument({ topicPrefix: 'staging.' });
    const channels = prefixed.channels as Record<string, { address: string }>;
    expect(channels.requests?.address).toBe(`staging.${TOPICS.requests.name}`);
  });
});
