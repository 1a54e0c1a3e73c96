import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, generatedApiSource } from '../scripts/openapi-document.js';

describe('src/generated/api.ts', () => {
  it('is what openapi-typescript makes of the current OpenAPI document (else: npm run generate -w @sps/sdk)', async () => {
    const committed = await readFile(GENERATED_PATH, 'utf8');
    const fresh = await generatedApiSource();
    expect(committed === fresh, 'stale: run `npm run generate -w @sps/sdk` and commit the result').toBe(true);
  }, 60_000);
});
