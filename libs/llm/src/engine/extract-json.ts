import { jsonrepair } from 'jsonrepair';

export type ExtractedJson = { ok: true; value: unknown; repaired: boolean } | { ok: false; reason: string };

const FENCED = /```(?:json|JSON)?\s*([\s\S]*?)(?:```|$)/;

/**
 * The JSON in a model's answer: bare, fenced, or surrounded by prose. What does not parse is
 * handed to jsonrepair (trailing commas, truncation, single quotes, comments...).
 */
export function extractJson(text: string): ExtractedJson {
  const candidate = locateJson(text);
  if (candidate === undefined) return { ok: false, reason: 'no JSON value found in the answer' };
  try {
    return {
      ok: true,
      value: JSON.parse(candidate),
      repaired: candidate !== text.trim() && !isPlainFence(text),
    };
  } catch {
    try {
      return { ok: true, value: JSON.parse(jsonrepair(candidate)), repaired: true };
    } catch (error) {
      return { ok: false, reason: `answer is not repairable JSON: ${(error as Error).message}` };
    }
  }
}

function locateJson(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return trimmed;
  const fenced = FENCED.exec(trimmed);
  if (fenced?.[1]?.trim()) return fenced[1].trim();
  const start = trimmed.search(/[{[]/);
  if (start < 0) return undefined;
  const open = trimmed[start];
  const end = trimmed.lastIndexOf(open === '{' ? '}' : ']');
  return end > start ? trimmed.slice(start, end + 1) : trimmed.slice(start);
}

// A fence alone is how many models format JSON; it is extraction, not repair.
function isPlainFence(text: string): boolean {
  return /^```(?:json|JSON)?\s*[\s\S]*```$/.test(text.trim());
}
