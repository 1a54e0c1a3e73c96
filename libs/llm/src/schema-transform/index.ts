export { runTransform } from './pipeline.js';
export {
  lowerDocument,
  type Lowered,
  type LoweredDocument,
  type LowerOptions,
  type LoweringReport,
  type Profile,
} from './lower.js';
export { wrapNonObjectRoot, withDefs, ROOT_KEY } from './root.js';
export { keepFormat, keepAnchoredPattern, isAnchoredPattern, keep, drop } from './keyword-filters.js';
export { Notes, Unsupported } from './notes.js';
export { isPrimitive, type Schema } from './json.js';
export type { CoreDocument, CoreNode } from './core.js';
export { measureSchema, type SchemaSize } from './measure.js';
export { gbnfAsJsonSchema } from './dialects.js';
export { cyclicDefs } from './simplify.js';
