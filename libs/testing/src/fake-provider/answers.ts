import { generateInstance } from './generate-instance.js';

type Schema = Record<string, unknown>;

/** A schema-valid answer; for the default analysis schema, one that reads like an analysis. */
export function validAnswer(schema: Schema | undefined, prompt: string): unknown {
  const instance = generateInstance(schema ?? { type: 'object' });
  if (schema && isAnalysisSchema(schema) && instance && typeof instance === 'object')
    return { ...instance, ...analysisOf(prompt) };
  return instance;
}

/** An answer that breaks the schema: required properties left out, or the wrong type at the root. */
export function violatingAnswer(schema: Schema | undefined, prompt: string): unknown {
  const valid = validAnswer(schema, prompt);
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
  if (valid && typeof valid === 'object' && !Array.isArray(valid) && required.length > 0) {
    return Object.fromEntries(Object.entries(valid).filter(([key]) => !required.includes(key)));
  }
  return typeof valid === 'string' ? 12345 : 'not what the schema asks for';
}

/** Valid JSON cut short, as a model hitting max_tokens leaves it. */
export function truncated(text: string): string {
  return text.length > 2 ? text.slice(0, -1) : text;
}

export function fenced(text: string): string {
  return `Here is the data:\n\`\`\`json\n${text}\n\`\`\``;
}

function isAnalysisSchema(schema: Schema): boolean {
  const properties = schema.properties as Schema | undefined;
  return Boolean(properties?.intent && properties.entities && properties.original_language);
}

function analysisOf(prompt: string) {
  const words = prompt.split(/\s+/).filter(Boolean);
  const details = prompt.match(/[#\w$.,:-]*\d[\w$.,:-]*/g) ?? [];
  return {
    intent: (words[0] ?? 'analyze').toLowerCase().replace(/[^a-z]/g, '') || 'analyze',
    subject: words.slice(1, 4).join(' ') || 'prompt',
    entities: { key_details: details.slice(0, 10), source: null, target: null },
    original_language: 'en',
    confidence: 0.9,
  };
}
