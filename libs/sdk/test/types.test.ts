import { describe, expectTypeOf, it } from 'vitest';
import type { AnalyzeResult, BatchResult, DataFor, SpsClient } from '../src/index.js';

const invoice = {
  type: 'object',
  properties: {
    number: { type: 'string' },
    total: { type: 'number' },
    paid: { type: 'boolean' },
    lines: {
      type: 'array',
      items: { type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] },
    },
  },
  required: ['number', 'total'],
  additionalProperties: false,
} as const;

type Invoice = {
  number: string;
  total: number;
  paid?: boolean;
  lines?: { sku: string; [key: string]: unknown }[];
};

describe('result types follow the JSON Schema', () => {
  it('types analyze data from a schema given as const', () => {
    expectTypeOf<DataFor<typeof invoice, 'json'>>().toEqualTypeOf<Invoice>();
    type Analyze = ReturnType<typeof _call>;
    const _call = (client: SpsClient) => client.analyze({ prompt: 'x', schema: invoice });
    expectTypeOf<Awaited<Analyze>>().toEqualTypeOf<AnalyzeResult<Invoice>>();
  });

  it('infers an inline schema without as const, XML as a string, no schema as unknown', () => {
    const _inline = (client: SpsClient) =>
      client.analyze({
        prompt: 'x',
        schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
      });
    expectTypeOf<Awaited<ReturnType<typeof _inline>>['data']>().toEqualTypeOf<{
      n: number;
      [key: string]: unknown;
    }>();
    const _xml = (client: SpsClient) => client.analyze({ prompt: 'x', schema: invoice, format: 'xml' });
    expectTypeOf<Awaited<ReturnType<typeof _xml>>['data']>().toEqualTypeOf<string>();
    const _none = (client: SpsClient) => client.analyze({ prompt: 'x' });
    expectTypeOf<Awaited<ReturnType<typeof _none>>['data']>().toBeUnknown();
  });

  it('types batch items the same way', () => {
    const _batch = (client: SpsClient) => client.analyzeBatch({ prompts: ['a', 'b'], schema: invoice });
    expectTypeOf<Awaited<ReturnType<typeof _batch>>>().toEqualTypeOf<BatchResult<Invoice>>();
  });
});
