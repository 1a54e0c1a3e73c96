// libs/llm's provider call as the processor makes it, for the benchmarks that call it without the
// pipeline (bench/provider-call.ts, the slow floor): the router built from the same environment
// settings the processor reads, its first provider (ResilientProvider → the SDK over libs/llm's
// transport), and the system prompt and provider schema the engine would send for `schema`.
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type * as Llm from '@sps/llm';
import { systemPrompt } from '../../libs/llm/src/engine/prompts.js';

export interface BenchProvider {
  provider: Llm.ResilientProvider;
  /** the schema as this provider receives it */
  schema: ReturnType<Llm.ResilientProvider['model']['transformSchema']>;
  system: string;
}

/** `llm` is libs/llm, or another copy of it (bench/provider-call.ts compares two). */
export function benchProvider(
  llm: Pick<typeof Llm, 'ProviderConfig' | 'SchemaCompiler' | 'createRouter'>,
  env: Record<string, string>,
  jsonSchema: Record<string, unknown>,
): BenchProvider {
  const config = Value.Convert(
    Type.Object(llm.ProviderConfig),
    Value.Default(Type.Object(llm.ProviderConfig), env),
  ) as Parameters<typeof llm.createRouter>[0];
  const { router } = llm.createRouter(config);
  const provider = router.providers[0]!;
  const compiled = new llm.SchemaCompiler().compile(jsonSchema);
  return {
    provider,
    schema: provider.model.transformSchema(compiled.schema),
    system: systemPrompt(compiled.schema, false),
  };
}
