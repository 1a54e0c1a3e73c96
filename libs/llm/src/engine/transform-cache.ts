import type { LanguageModel, SchemaTransform } from '../language-model.js';
import type { CompiledSchema } from '../validation/schema-compiler.js';

/** Each provider's transform of a schema, computed once per schema (transforms are pure). */
export class TransformCache {
  private readonly entries = new Map<string, SchemaTransform>();

  constructor(private readonly maxEntries = 2_000) {}

  get(model: LanguageModel, schema: CompiledSchema): SchemaTransform {
    const key = `${model.provider}\u0000${schema.hash}`;
    let transform = this.entries.get(key);
    if (!transform) {
      transform = model.transformSchema(schema.schema);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, transform);
    }
    return transform;
  }
}
