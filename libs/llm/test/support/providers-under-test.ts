import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { checkAnthropicSchema } from '../../../testing/src/fake-provider/rules/anthropic.js';
import { checkGeminiSchema } from '../../../testing/src/fake-provider/rules/gemini.js';
import { checkOpenAISchema } from '../../../testing/src/fake-provider/rules/openai.js';
import { getGbnfGrammarForGbnfJsonSchema } from '../../../../node_modules/node-llama-cpp/dist/utils/gbnfJson/getGbnfGrammarForGbnfJsonSchema.js';
import { validateObjectAgainstGbnfSchema } from '../../../../node_modules/node-llama-cpp/dist/utils/gbnfJson/utils/validateObjectAgainstGbnfSchema.js';
import type { SchemaTransform } from '../../src/language-model.js';
import { transformSchema as anthropicTransform } from '../../src/providers/anthropic/schema-transform.js';
import { transformSchema as geminiTransform } from '../../src/providers/gemini/schema-transform.js';
import { transformSchema as localTransform } from '../../src/providers/local/schema-transform.js';
import { transformSchema as openaiTransform } from '../../src/providers/openai/schema-transform.js';
import { gbnfAsJsonSchema } from '../../src/schema-transform/dialects.js';

/**
 * Each provider as the schema-transform tests see it: the transform under test, the fake
 * provider's independent check of that provider's documented rules (an oracle that does not share
 * code with the transform), and validation in the provider's own dialect.
 */
export type Provider = 'openai' | 'anthropic' | 'gemini' | 'local';
export type Schema = Record<string, unknown>;

export interface ProviderUnderTest {
  transform: (schema: Schema) => SchemaTransform;
  /** The provider's 400s for this schema (empty: accepted). */
  check: (schema: Schema) => string[];
  /** Errors validating an instance against the provider schema in its own dialect (empty: accepted). */
  validate: (schema: Schema, instance: unknown) => string[];
}

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
const validators = new Map<string, ValidateFunction>();

/**
 * ajv reports a property named `__proto__` as additional even when `properties` declares it; both
 * schema and instance are validated with that name spelled differently (consistently on both sides).
 */
const renameProto = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value).replaceAll('"__proto__"', '"__proto__~"'));

export function validateJsonSchema(schema: Schema, instance: unknown): string[] {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) validators.set(key, (validate = ajv.compile(renameProto(schema) as Schema)));
  return validate(renameProto(instance))
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.keyword}: ${e.message}`);
}

/** Grammar generation succeeds without node-llama-cpp's warnings (which mean "any" or "null" fallbacks). */
function checkLocalSchema(schema: Schema): string[] {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  try {
    getGbnfGrammarForGbnfJsonSchema(schema as never);
  } catch (error) {
    warnings.push(`grammar generation failed: ${(error as Error).message}`);
  } finally {
    console.warn = warn;
  }
  return warnings;
}

function validateLocal(schema: Schema, instance: unknown): string[] {
  const errors = validateJsonSchema(gbnfAsJsonSchema(schema) as Schema, instance);
  try {
    validateObjectAgainstGbnfSchema(instance, schema as never);
  } catch (error) {
    errors.push(`node-llama-cpp: ${(error as Error).message}`);
  }
  return errors;
}

export const PROVIDERS: Record<Provider, ProviderUnderTest> = {
  openai: { transform: openaiTransform, check: checkOpenAISchema, validate: validateJsonSchema },
  anthropic: { transform: anthropicTransform, check: checkAnthropicSchema, validate: validateJsonSchema },
  gemini: { transform: geminiTransform, check: checkGeminiSchema, validate: validateJsonSchema },
  local: { transform: localTransform, check: checkLocalSchema, validate: validateLocal },
};
