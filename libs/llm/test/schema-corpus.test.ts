import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '@sps/contracts';
import type { SchemaTransform } from '../src/language-model.js';
import { gbnfAsJsonSchema } from '../src/schema-transform/dialects.js';
import { SchemaCompiler, type CompiledSchema } from '../src/validation/schema-compiler.js';
import { loadCorpus, type CorpusSchema } from './fixtures/schema-corpus/corpus.js';
import { PROVIDERS, type Provider, type Schema } from './support/providers-under-test.js';

/**
 * The vendored real-world corpus (libs/llm/test/fixtures/schema-corpus: SchemaStore, BFCL function
 * calling, Iglu Central; see its README.md) through SchemaCompiler and every provider's transform:
 *
 * - every schema compiles, except those referencing a document they do not define (remote `$ref`,
 *   never fetched: refused with INVALID_SCHEMA, a counted and pinned category);
 * - every provider schema passes the fake provider's rule checks (what the real API answers 400 for);
 * - every instance valid by reference (SchemaStore's own positive tests) that the service accepts is,
 *   once encoded, accepted by each provider schema — or only rejected for properties the original
 *   allows but does not declare (the closed-object class: removing exactly the properties the
 *   provider schema reports as additional makes it pass), never otherwise (over-constraint);
 * - what the provider schema accepts restores into an instance the original accepts;
 * - the schemas served natively per provider, pinned, and at least TARGET_NATIVE of those that compile.
 *
 * A table per provider is printed, with the slowest schemas to compile and to transform.
 */

/** Exact corpus size: the selection in the corpus README is deterministic. */
const SCHEMA_COUNT = 1377;
/** Schemas refused because they reference a document they do not define (remote `$ref`, never fetched). */
const REMOTE_REF_REFUSALS = 96;
/**
 * The native share every provider must reach (issue 14), of the schemas the service serves (those
 * that compile; a schema refused for a remote `$ref` never reaches a provider).
 */
const TARGET_NATIVE = 0.95;
/**
 * Schemas each provider serves natively, pinned exactly (of the 1,281 that compile; measured
 * 2026-11-30 with the codecs of docs/provider-schema-rules.md): a transform that quietly fell back
 * to prompt mode for some would fail here, as would one that claims native mode it cannot hold.
 */
const NATIVE: Record<Provider, number> = {
  openai: 1278,
  anthropic: 1250,
  gemini: 1279,
  local: 1279,
};
const CURRENT_FLOOR: Record<Provider, number> = Object.fromEntries(
  Object.entries(NATIVE).map(([provider, count]) => [provider, count / 1281]),
) as Record<Provider, number>;
/**
 * Instances valid by reference that the service's own validation rejects, by name, with the reason
 * (pinned: a new one fails the test).
 */
const SERVICE_REJECTS: Record<string, string> = {
  'schemastore/webjob-publish-settings.json › scheduled.json':
    'endTime "2018-12-14T10:00:00" has no UTC offset, which RFC 3339 date-time requires: the service asserts formats, SchemaStore\'s test run does not',
};

const providers = Object.keys(PROVIDERS) as Provider[];
const addFormats =
  (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
const ajv = new Ajv2020({
  strict: false,
  allErrors: true,
  validateFormats: true,
  logger: false,
  ownProperties: true,
});
addFormats(ajv);
const structured = new Map<string, ValidateFunction>();

/** ajv's errors (with params) for an instance against a provider schema in its JSON Schema form. */
function structuredErrors(provider: Provider, providerSchema: Schema, instance: unknown): ErrorObject[] {
  const schema = provider === 'local' ? (gbnfAsJsonSchema(providerSchema) as Schema) : providerSchema;
  const key = JSON.stringify(schema);
  let validate = structured.get(key);
  if (!validate) structured.set(key, (validate = ajv.compile(schema)));
  return validate(instance) ? [] : [...(validate.errors ?? [])];
}

/**
 * The instance without some properties the provider schema reports as additional, when that makes it
 * pass; otherwise undefined. Each round removes, from a copy, either every property reported as
 * additional, or those one reporting subschema (one `anyOf` branch at one place) calls additional,
 * and keeps the candidate with the fewest errors left (greedy, at most 8 rounds): a valid instance is
 * in the closed-object class when some branch takes it once its undeclared properties are gone.
 */
function withoutAdditional(provider: Provider, providerSchema: Schema, instance: unknown): unknown {
  let current = structuredClone(instance);
  let errors = structuredErrors(provider, providerSchema, current);
  for (let round = 0; round < 8 && errors.length > 0; round++) {
    const extras = errors.filter((e) => e.keyword === 'additionalProperties');
    if (extras.length === 0) return undefined;
    const groups = new Map<string, ErrorObject[]>();
    for (const e of extras) {
      const key = `${e.instancePath} ${e.schemaPath}`;
      groups.set(key, [...(groups.get(key) ?? []), e]);
    }
    let best: { candidate: unknown; errors: ErrorObject[] } | undefined;
    for (const removal of [extras, ...groups.values()]) {
      const candidate = structuredClone(current);
      for (const e of removal) {
        const parent = e.instancePath
          .split('/')
          .slice(1)
          .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
          .reduce<unknown>(
            (node, token) => (node as Record<string, unknown> | undefined)?.[token],
            candidate,
          );
        if (parent && typeof parent === 'object')
          delete (parent as Record<string, unknown>)[
            (e.params as { additionalProperty: string }).additionalProperty
          ];
      }
      const left = structuredErrors(provider, providerSchema, candidate);
      if (left.length === 0) return candidate;
      if (!best || left.length < best.errors.length) best = { candidate, errors: left };
    }
    if (!best || best.errors.length >= errors.length) return undefined;
    ({ candidate: current, errors } = best);
  }
  return errors.length === 0 ? current : undefined;
}

interface Tally {
  transformed: number;
  native: number;
  ruleFailures: string[];
  errors: string[];
  instances: number;
  closedObject: number;
  overConstraint: string[];
  invalidRestores: string[];
  inexactRestores: number;
  transformMs: { name: string; ms: number }[];
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

describe('real-world schema corpus through the compiler and every provider transform', () => {
  const corpus = loadCorpus();

  it(`has exactly ${SCHEMA_COUNT} schemas`, () => {
    expect(corpus.length).toBe(SCHEMA_COUNT);
    expect(corpus.length).toBeGreaterThanOrEqual(500);
  });

  it('compiles every schema, serves it with accepted provider schemas, never over-constrains, restores validly', () => {
    // Warm each draft's ajv instance so that the first schema of a draft does not pay for it.
    const compiler = new SchemaCompiler({ maxEntries: 10_000 });
    for (const $schema of [
      'http://json-schema.org/draft-04/schema#',
      'http://json-schema.org/draft-06/schema#',
      'http://json-schema.org/draft-07/schema#',
      'https://json-schema.org/draft/2019-09/schema',
      'https://json-schema.org/draft/2020-12/schema',
    ])
      compiler.compile({ $schema, type: 'object', properties: { a: { type: 'string', pattern: '^a' } } });

    const compileFailures: string[] = [];
    const compileMs: { name: string; ms: number }[] = [];
    const compileCpuMs: { name: string; ms: number }[] = [];
    const notes: Record<string, number> = {};
    let remoteRefusals = 0;
    const remoteNames: string[] = [];
    let instancesTotal = 0;
    const serviceRejects: string[] = [];
    const rejectedNames: string[] = [];
    const emptyTally = (): Tally => ({
      transformed: 0,
      native: 0,
      ruleFailures: [],
      errors: [],
      instances: 0,
      closedObject: 0,
      overConstraint: [],
      invalidRestores: [],
      inexactRestores: 0,
      transformMs: [],
    });
    const tallies = Object.fromEntries(providers.map((p) => [p, emptyTally()])) as Record<Provider, Tally>;

    const compiled = new Map<string, CompiledSchema>();
    for (const entry of corpus) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      try {
        const result = compiler.compile(entry.schema);
        compiled.set(entry.name, result);
        for (const note of result.notes) {
          const kind = note
            .replace(/^\/[^:]*: /, '')
            .replace(/"[^"]*"/g, '"…"')
            .replace(/\d+/g, 'N')
            .slice(0, 70);
          notes[kind] = (notes[kind] ?? 0) + 1;
        }
      } catch (error) {
        const message = (error as Error).message;
        if (error instanceof ServiceError && /remote references are not fetched/.test(message)) {
          remoteRefusals++;
          remoteNames.push(`${entry.name}: ${message}`);
        } else compileFailures.push(`${entry.name}: ${message}`);
      }
      compileMs.push({ name: entry.name, ms: performance.now() - started });
      const used = process.cpuUsage(cpu);
      compileCpuMs.push({ name: entry.name, ms: (used.user + used.system) / 1000 });
    }

    for (const entry of corpus) {
      const original = compiled.get(entry.name);
      if (!original) continue;
      const valid = entry.instances.filter((instance) => {
        instancesTotal++;
        const errors = original.validate(instance.data);
        if (errors.length === 0) return true;
        const name = `${entry.name} › ${instance.name}`;
        rejectedNames.push(name);
        if (!(name in SERVICE_REJECTS))
          serviceRejects.push(`${name}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
        return false;
      });
      for (const provider of providers) checkProvider(provider, entry, original, valid, tallies[provider]);
    }

    // ---- report ----------------------------------------------------------------------------------
    const served = compiled.size;
    const lines = [
      `Schema corpus: ${corpus.length} schemas (${corpus.filter((e) => e.source === 'schemastore').length} SchemaStore, ` +
        `${corpus.filter((e) => e.source === 'bfcl').length} BFCL, ${corpus.filter((e) => e.source === 'iglu').length} Iglu Central); ` +
        `compiled ${served}, refused for a remote $ref ${remoteRefusals}, compile failures ${compileFailures.length}; ` +
        `${instancesTotal} reference-valid instances, ${rejectedNames.length} rejected by the service's validation (${Object.keys(SERVICE_REJECTS).length} known)`,
      `  provider   native (share of compiled / of all)   rule failures  errors  over-constraint  closed-object  invalid restores  inexact restores  instances checked  target`,
    ];
    for (const provider of providers) {
      const t = tallies[provider];
      const target = t.native / served >= TARGET_NATIVE ? 'meets' : 'below';
      lines.push(
        `  ${provider.padEnd(9)}  ${String(t.native).padStart(5)} (${((100 * t.native) / served).toFixed(1)} % / ${((100 * t.native) / corpus.length).toFixed(1)} %)`.padEnd(
          50,
        ) +
          `${String(t.ruleFailures.length).padStart(8)}  ${String(t.errors.length).padStart(6)}  ${String(t.overConstraint.length).padStart(15)}  ${String(t.closedObject).padStart(13)}  ${String(t.invalidRestores.length).padStart(16)}  ${String(t.inexactRestores).padStart(16)}  ${String(t.instances).padStart(17)}  ${target} ${TARGET_NATIVE * 100} % (floor ${(CURRENT_FLOOR[provider] * 100).toFixed(1)} %)`,
      );
    }
    for (const [label, timings] of [
      ['wall', compileMs],
      ['cpu', compileCpuMs],
    ] as const) {
      const sorted = timings.map((c) => c.ms).sort((a, b) => a - b);
      const slowest = [...timings].sort((a, b) => b.ms - a.ms).slice(0, 3);
      lines.push(
        `  compile ms (${label}): p50 ${percentile(sorted, 0.5).toFixed(2)}, p99 ${percentile(sorted, 0.99).toFixed(2)}, max ${sorted.at(-1)!.toFixed(1)}; slowest: ${slowest.map((c) => `${c.name} ${c.ms.toFixed(1)}`).join(', ')}`,
      );
    }
    for (const provider of providers) {
      const ms = tallies[provider].transformMs;
      const sorted = ms.map((t) => t.ms).sort((a, b) => a - b);
      const slowest = [...ms].sort((a, b) => b.ms - a.ms)[0];
      lines.push(
        `  ${provider} transform ms: p50 ${percentile(sorted, 0.5).toFixed(2)}, p99 ${percentile(sorted, 0.99).toFixed(2)}, max ${(slowest?.ms ?? 0).toFixed(1)} (${slowest?.name})`,
      );
    }
    if (Object.keys(notes).length)
      lines.push(
        `  compile notes: ${Object.entries(notes)
          .map(([kind, n]) => `${n}× ${kind}`)
          .join('; ')}`,
      );
    const details = [
      ...serviceRejects.map((d) => `service rejects ${d}`),
      ...compileFailures.map((d) => `compile failure ${d}`),
      ...providers.flatMap((p) => [
        ...tallies[p].errors.map((d) => `${p} error ${d}`),
        ...tallies[p].ruleFailures.map((d) => `${p} rule failure ${d}`),
        ...tallies[p].overConstraint.map((d) => `${p} over-constraint ${d}`),
        ...tallies[p].invalidRestores.map((d) => `${p} invalid restore ${d}`),
      ]),
    ];
    if (details.length) lines.push('  details:', ...details.map((d) => `    ${d.slice(0, 400)}`));
    console.log(lines.join('\n'));
    if (process.env.CORPUS_LIST_REMOTE) console.log(remoteNames.join('\n'));

    // ---- assertions ------------------------------------------------------------------------------
    expect(compileFailures, 'every schema without a remote $ref compiles').toEqual([]);
    expect(remoteRefusals, 'schemas refused for a remote $ref (pinned)').toBe(REMOTE_REF_REFUSALS);
    expect(serviceRejects, 'reference-valid instances the service rejects').toEqual([]);
    expect(
      Object.keys(SERVICE_REJECTS).filter((name) => !rejectedNames.includes(name)),
      'SERVICE_REJECTS entries that are accepted now: remove them',
    ).toEqual([]);
    for (const provider of providers) {
      const t = tallies[provider];
      expect(t.errors, `${provider}: transform, encode or restore threw`).toEqual([]);
      expect(t.ruleFailures, `${provider}: provider schemas the provider would refuse`).toEqual([]);
      expect(
        t.overConstraint,
        `${provider}: valid instances rejected beyond the closed-object class`,
      ).toEqual([]);
      expect(t.invalidRestores, `${provider}: restored instances the original rejects`).toEqual([]);
      expect(t.native, `${provider}: schemas served natively`).toBe(NATIVE[provider]);
      expect(t.native / served, `${provider}: native share`).toBeGreaterThanOrEqual(TARGET_NATIVE);
    }
  }, 900_000);
});

function checkProvider(
  provider: Provider,
  entry: CorpusSchema,
  original: CompiledSchema,
  valid: CorpusSchema['instances'],
  tally: Tally,
): void {
  const { transform, check, validate } = PROVIDERS[provider];
  let t: SchemaTransform;
  const started = performance.now();
  try {
    t = transform(entry.schema);
  } catch (error) {
    tally.errors.push(`${entry.name}: transform threw ${(error as Error).message}`);
    return;
  }
  tally.transformMs.push({ name: entry.name, ms: performance.now() - started });
  tally.transformed++;
  if (t.providerSchema) {
    tally.native++;
    const violations = check(t.providerSchema);
    if (violations.length) tally.ruleFailures.push(`${entry.name}: ${violations.slice(0, 3).join('; ')}`);
  }
  for (const instance of valid) {
    const name = `${entry.name} › ${instance.name}`;
    tally.instances++;
    try {
      const encoded = t.encode ? t.encode(instance.data) : instance.data;
      let candidate = encoded;
      if (t.providerSchema && validate(t.providerSchema, encoded).length > 0) {
        const pruned = withoutAdditional(provider, t.providerSchema, encoded);
        // Closed-object class only when what is left is still valid for the original: extras the
        // original requires (e.g. through if/then) are an over-constraint.
        if (
          pruned !== undefined &&
          validate(t.providerSchema, pruned).length === 0 &&
          original.validate(t.restore(pruned)).length === 0
        ) {
          tally.closedObject++;
          candidate = pruned;
        } else {
          tally.overConstraint.push(`${name}: ${validate(t.providerSchema, encoded).slice(0, 3).join('; ')}`);
          continue;
        }
      }
      const restored = t.restore(candidate);
      const errors = original.validate(restored);
      if (errors.length)
        tally.invalidRestores.push(
          `${name}: ${errors
            .slice(0, 3)
            .map((e) => `${e.path} ${e.message}`)
            .join('; ')}`,
        );
      else if (candidate === encoded && JSON.stringify(restored) !== JSON.stringify(instance.data))
        tally.inexactRestores++;
    } catch (error) {
      tally.errors.push(`${name}: ${(error as Error).message}`);
    }
  }
}
