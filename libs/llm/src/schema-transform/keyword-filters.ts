import { hasTopLevelAlternation } from '../validation/linear-regexp.js';
import { pick, type Schema } from './json.js';

type Note = (message: string) => void;

/** `format` when the provider knows it; otherwise dropped (a loosening). */
export function keepFormat(branch: Schema, allowed: ReadonlySet<string>, note: Note): Schema {
  if (typeof branch.format !== 'string') return {};
  if (allowed.has(branch.format)) return { format: branch.format };
  note(`format "${branch.format}" is dropped`);
  return {};
}

/**
 * `pattern` only when anchored at both ends (`^...$`, no top-level `|`) and free of lookaround and
 * backreferences: then "matches somewhere" (JSON Schema) and "matches whole" (grammar engines) agree,
 * so the provider cannot reject a string the original accepts.
 */
export function keepAnchoredPattern(branch: Schema, note: Note): Schema {
  if (typeof branch.pattern !== 'string') return {};
  if (isAnchoredPattern(branch.pattern)) return { pattern: branch.pattern };
  note('pattern is dropped (only fully anchored, lookaround-free patterns are sent)');
  return {};
}

export function isAnchoredPattern(pattern: string): boolean {
  if (!pattern.startsWith('^') || !endsWithUnescapedDollar(pattern)) return false;
  if (/\(\?<?[=!]|\\[1-9]|\\k</.test(pattern)) return false;
  try {
    new RegExp(pattern, 'u');
  } catch {
    return false;
  }
  return !hasTopLevelAlternation(pattern);
}

function endsWithUnescapedDollar(pattern: string): boolean {
  if (!pattern.endsWith('$')) return false;
  let backslashes = 0;
  for (let i = pattern.length - 2; i >= 0 && pattern[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** The listed keywords as they are. */
export function keep(branch: Schema, keys: readonly string[]): Schema {
  return pick(branch, keys);
}

/** Notes each listed keyword present (it is dropped); returns nothing to write. */
export function drop(branch: Schema, keys: readonly string[], note: Note): Schema {
  for (const key of keys) if (branch[key] !== undefined) note(`${key} is dropped`);
  return {};
}
