import { Ajv, type ErrorObject } from 'ajv';
import type { Static, TObject } from '@sinclair/typebox';

/** Thrown once at start-up, listing every bad or missing variable on its own line. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false });

/**
 * Validates environment variables against a TypeBox object schema whose keys are the variable
 * names. Defaults are applied, numbers and booleans coerced; unknown variables are ignored.
 */
export function loadConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const candidate: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') candidate[key] = value;
  }
  const validate = ajv.compile(schema);
  if (!validate(candidate)) throw new ConfigError((validate.errors ?? []).map(describeProblem));
  return candidate as Static<T>;
}

function describeProblem(error: ErrorObject): string {
  if (error.keyword === 'required') return `${String(error.params.missingProperty)}: is required but not set`;
  const variable = error.instancePath.replace(/^\//, '');
  const allowed =
    error.keyword === 'enum' ? ` (one of: ${(error.params.allowedValues as string[]).join(', ')})` : '';
  return `${variable}: ${error.message ?? 'is invalid'}${allowed}`;
}
