import type { GbnfJsonSchema, Llama, LlamaGrammar } from 'node-llama-cpp';
import type { SchemaTransform } from '../../language-model.js';

/**
 * The local provider's native structured output is a grammar that constrains sampling token by
 * token: `createGrammarForJsonSchema` for the transformed schema, else node-llama-cpp's built-in
 * JSON grammar (JSON mode, the schema travelling in the system prompt). Grammars are bound to one
 * `Llama` instance and cost a little to build, so each model keeps its own small cache.
 */
export interface ResponseFormat {
  grammarFor(schema: SchemaTransform): Promise<LlamaGrammar>;
}

export function createResponseFormat(llama: Llama, maxCached = 64): ResponseFormat {
  const bySchema = new Map<string, Promise<LlamaGrammar>>();
  let jsonGrammar: Promise<LlamaGrammar> | undefined;

  const plainJson = (): Promise<LlamaGrammar> => {
    jsonGrammar ??= llama.getGrammarFor('json').catch((error: unknown) => {
      jsonGrammar = undefined;
      throw error;
    });
    return jsonGrammar;
  };

  return {
    grammarFor(schema) {
      if (!schema.providerSchema) return plainJson();
      const key = JSON.stringify(schema.providerSchema);
      const cached = bySchema.get(key);
      if (cached) {
        // Map order is insertion order: re-inserting keeps the most recently used last.
        bySchema.delete(key);
        bySchema.set(key, cached);
        return cached;
      }
      // A schema node-llama-cpp cannot turn into a grammar degrades to JSON mode rather than failing
      // the call: the engine's final validation enforces the original schema either way.
      const grammar = llama
        .createGrammarForJsonSchema<GbnfJsonSchema>(schema.providerSchema as GbnfJsonSchema)
        .then((g): LlamaGrammar => g)
        .catch(() => plainJson());
      bySchema.set(key, grammar);
      while (bySchema.size > maxCached) bySchema.delete(bySchema.keys().next().value as string);
      return grammar;
    },
  };
}
