import { describe, expect, it } from 'vitest';
import { arrayLiteral, insertParameters, REQUEST_LOG_COLUMNS, requestLogRow } from '../src/insert-results.js';

describe('arrayLiteral', () => {
  it('quotes every value and escapes what could end an element or the array', () => {
    expect(arrayLiteral(['a', '', 'NULL', 'x"y', 'b\\c', '{,}', null, 3, 1.5e-7, true])).toBe(
      '{"a","","NULL","x\\"y","b\\\\c","{,}",NULL,"3","1.5e-7","true"}',
    );
    expect(arrayLiteral([])).toBe('{}');
  });
});

describe('insertParameters', () => {
  it('is one parameter per column whatever the row count', () => {
    const result = {
      request_id: '6f1c2a4e-93b1-4d57-a0c2-1f2e3d4c5b6a',
      tenant_id: 't',
      status: 'failed' as const,
      prompt: 'p',
      request_params: { a: '"' },
      attempts: [],
      processing_time_ms: 1,
      completed_at: '2026-01-02T03:04:05.678Z',
    };
    const rows = Array.from({ length: 5_000 }, () => requestLogRow(result));
    const parameters = insertParameters(rows);
    expect(parameters).toHaveLength(REQUEST_LOG_COLUMNS.length);
    const index = (name: string) => REQUEST_LOG_COLUMNS.findIndex(([column]) => column === name);
    expect(JSON.parse(parameters[index('request_params')]!)).toHaveLength(5_000);
    expect(JSON.parse(parameters[index('response_data')]!)[0]).toBeNull();
    expect(parameters[index('api_key_id')]!.startsWith('{NULL,NULL,')).toBe(true);
  });
});
