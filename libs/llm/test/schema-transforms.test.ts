import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaCompiler } from '../src/validation/schema-compiler.js';
import { PROVIDERS, type Provider, type Schema } from './support/providers-under-test.js';

/**
 * The schema corpus (libs/llm/test/schemas/NNN-name.json) through every provider transform:
 * (a) the provider schema passes that provider's documented rules, or is undefined (prompt mode);
 * (b) every valid instance, encoded, validates against the provider schema, and restores to itself
 *     (or, for an optional property that already accepts null, to itself with or without that null:
 *     the provider cannot tell absent from null) and the restored instance passes the original;
 * (c) every invalid instance is rejected by the final validation of the original schema.
 */

const CLOSED_OBJECT =
  'OpenAI strict mode and Anthropic structured outputs require additionalProperties: false on every object; this valid ' +
  'instance has properties the original allows but does not declare, so the provider cannot produce it. Such extras are ' +
  'never required (the instance without them is valid too) and the final validation still accepts them.';

/** Valid instances a provider schema may reject, by name (`<provider>: <file> › valid[<i>]`), with the reason. */
const KNOWN_EXCEPTIONS: { name: string; reason: string }[] = [
  {
    name: 'openai: 022-geojson-feature.json › valid[0]',
    reason: `${CLOSED_OBJECT} (undeclared feature property "wikipedia")`,
  },
  {
    name: 'anthropic: 022-geojson-feature.json › valid[0]',
    reason: `${CLOSED_OBJECT} (undeclared feature property "wikipedia")`,
  },
  {
    name: 'openai: 064-api-error-normalization.json › valid[2]',
    reason: `${CLOSED_OBJECT} (a detail matching both anyOf shapes carries the other shape's keys)`,
  },
  {
    name: 'anthropic: 064-api-error-normalization.json › valid[2]',
    reason: `${CLOSED_OBJECT} (a detail matching both anyOf shapes carries the other shape's keys)`,
  },
  {
    name: 'openai: 072-weather-station-reading-draft04.json › valid[0]',
    reason: `${CLOSED_OBJECT} (aux_sensor_N names allowed by patternProperties)`,
  },
  {
    name: 'anthropic: 072-weather-station-reading-draft04.json › valid[0]',
    reason: `${CLOSED_OBJECT} (aux_sensor_N names allowed by patternProperties)`,
  },
];

interface CorpusEntry {
  file: string;
  description: string;
  features: string[];
  schema: Schema;
  valid: unknown[];
  invalid: { breaks: string; data: unknown }[];
}

/**
 * Pinned: a transform that quietly fell back to prompt mode, or a check that stopped running,
 * changes these. Update them only with the reason in the change.
 */
const EXPECTED_CORPUS = 73;
const EXPECTED_INVALID_REJECTED = 2468;
const EXPECTED_SUMMARY = {
  openai: { native: 73, promptMode: [], instances: 170, nullCollapses: 5, exceptions: 3 },
  anthropic: { native: 73, promptMode: [], instances: 170, nullCollapses: 0, exceptions: 3 },
  gemini: { native: 73, promptMode: [], instances: 170, nullCollapses: 0, exceptions: 0 },
  local: { native: 73, promptMode: [], instances: 170, nullCollapses: 5, exceptions: 0 },
};

const SCHEMAS_DIR = fileURLToPath(new URL('./schemas', import.meta.url));
const MIN_CORPUS = 60;

function loadCorpus(): CorpusEntry[] {
  return readdirSync(SCHEMAS_DIR)
    .filter((f) => /^\d{3}-.+\.json$/.test(f))
    .sort()
    .map((file) => ({
      file,
      ...(JSON.parse(readFileSync(join(SCHEMAS_DIR, file), 'utf8')) as Omit<CorpusEntry, 'file'>),
    }));
}

/**
 * True when `a` and `b` differ only by null-valued properties one has and the other lacks: an
 * optional property that already accepts null, where the provider cannot tell absent from null.
 */
function differsOnlyByNulls(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => differsOnlyByNulls(item, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) =>
      Object.hasOwn(a, k) && Object.hasOwn(b, k)
        ? differsOnlyByNulls(a[k], b[k])
        : (Object.hasOwn(a, k) ? a[k] : b[k]) === null,
    );
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const corpus = loadCorpus();
const compiler = new SchemaCompiler();
const summary = Object.fromEntries(
  Object.keys(PROVIDERS).map((p) => [
    p,
    { native: 0, promptMode: [] as string[], instances: 0, nullCollapses: 0, exceptions: 0 },
  ]),
) as Record<
  Provider,
  { native: number; promptMode: string[]; instances: number; nullCollapses: number; exceptions: number }
>;
const knownNames = new Set(KNOWN_EXCEPTIONS.map((e) => e.name));
const exceptionsSeen = new Set<string>();
let invalidRejected = 0;

describe('schema corpus through every provider transform', () => {
  it(`has at least ${MIN_CORPUS} schemas in libs/llm/test/schemas`, () => {
    expect(corpus.length, `${corpus.length} schemas found in ${SCHEMAS_DIR}`).toBeGreaterThanOrEqual(
      MIN_CORPUS,
    );
  });

  describe.each(corpus)('$file', (entry) => {
    const original = () => compiler.compile(entry.schema);

    it.each(Object.keys(PROVIDERS) as Provider[])(
      '%s: accepted schema; valid instances encode, validate and restore',
      (provider) => {
        const { transform, check, validate } = PROVIDERS[provider];
        const started = performance.now();
        const t = transform(entry.schema);
        const elapsed = performance.now() - started;
        expect(elapsed, 'a transform must be fast (it runs once per schema, then is cached)').toBeLessThan(
          250,
        );
        expect(t.notes.filter((n) => n.includes('internal error'))).toEqual([]);
        expect(JSON.stringify(transform(entry.schema).providerSchema), 'deterministic').toBe(
          JSON.stringify(t.providerSchema),
        );
        if (!t.providerSchema) summary[provider].promptMode.push(entry.file);
        else {
          summary[provider].native++;
          expect(
            check(t.providerSchema),
            `${provider} would refuse: ${JSON.stringify(t.providerSchema)}`,
          ).toEqual([]);
        }
        entry.valid.forEach((instance, i) => {
          const name = `${provider}: ${entry.file} › valid[${i}]`;
          expect(original().validate(instance), `${name} is not valid against its own schema`).toEqual([]);
          const encoded = t.encode!(instance);
          const errors = t.providerSchema ? validate(t.providerSchema, encoded) : [];
          summary[provider].instances++;
          if (errors.length && knownNames.has(name)) {
            summary[provider].exceptions++;
            exceptionsSeen.add(name);
          } else
            expect(
              errors,
              `${name}: encoded ${JSON.stringify(encoded)} rejected by ${JSON.stringify(t.providerSchema)}`,
            ).toEqual([]);
          const restored = t.restore(encoded);
          if (JSON.stringify(restored) !== JSON.stringify(instance)) {
            expect(
              differsOnlyByNulls(instance, restored),
              `${name}: restore(encode(x)) = ${JSON.stringify(restored)}`,
            ).toBe(true);
            summary[provider].nullCollapses++;
          }
          expect(original().validate(restored), `${name}: restored instance fails the original`).toEqual([]);
        });
      },
    );

    it('rejects every invalid instance in the final validation', () => {
      for (const { breaks, data } of entry.invalid) {
        expect(
          original().validate(data),
          `${entry.file}: invalid instance (${breaks}) accepted: ${JSON.stringify(data)}`,
        ).not.toEqual([]);
        invalidRejected++;
      }
    });
  });

  it('lists no known exception that no longer fails', () => {
    const stale = KNOWN_EXCEPTIONS.map((e) => e.name).filter((name) => !exceptionsSeen.has(name));
    expect(stale, 'remove these from KNOWN_EXCEPTIONS').toEqual([]);
  });

  it('pins the counts: native schemas per provider, instances checked, collapses, exceptions', () => {
    expect(corpus.length).toBe(EXPECTED_CORPUS);
    expect(invalidRejected).toBe(EXPECTED_INVALID_REJECTED);
    expect(KNOWN_EXCEPTIONS.length, 'size of the known-exception list').toBe(6);
    expect(summary).toEqual(EXPECTED_SUMMARY);
  });

  afterAll(() => {
    const lines = [
      `Schema corpus: ${corpus.length} schemas, ${invalidRejected} invalid instances rejected by the final validation`,
    ];
    for (const [provider, s] of Object.entries(summary)) {
      lines.push(
        `  ${provider.padEnd(9)} native ${String(s.native).padStart(3)}, prompt mode ${String(s.promptMode.length).padStart(3)}, ` +
          `valid instances ${s.instances}, null/absent collapses ${s.nullCollapses}, known exceptions ${s.exceptions}` +
          (s.promptMode.length ? `\n      prompt mode: ${s.promptMode.join(', ')}` : ''),
      );
    }
    console.log(lines.join('\n'));
  });
});
