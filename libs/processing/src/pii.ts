import { isIP } from 'node:net';

export type PiiType = 'EMAIL' | 'CARD' | 'SSN' | 'PHONE' | 'IP';

export interface Redaction {
  text: string;
  /** placeholder → original; kept in memory for restoring, never logged or stored. */
  originals: Map<string, string>;
  /** How many of each type were found: the only thing that may be logged. */
  counts: Partial<Record<PiiType, number>>;
}

// Order matters: cards before phones (a card number also looks like a long phone number).
const DETECTORS: { type: PiiType; pattern: RegExp; accept?: (match: string) => boolean }[] = [
  { type: 'EMAIL', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  { type: 'CARD', pattern: /\b(?:\d[ -]?){12,18}\d\b/g, accept: (m) => luhnValid(m.replace(/\D/g, '')) },
  { type: 'SSN', pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  {
    type: 'IP',
    pattern: /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)|\b(?:[A-Fa-f0-9]{1,4}:){2,7}[A-Fa-f0-9:]{1,4}\b/g,
    accept: (m) => isIP(m) !== 0,
  },
  {
    type: 'PHONE',
    // Not part of a longer run of digit groups (a card number that failed Luhn stays as it is).
    pattern:
      /(?<![\w.+]|\d[ .-])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}[ .-]\d{3,4}(?:[ .-]?\d{1,4})?(?!\w|[ .-]\d)/g,
    accept: (m) => m.replace(/\D/g, '').length >= 9,
  },
];

/** Replaces emails, card numbers (Luhn-checked), SSNs, IP addresses and phone numbers with placeholders. */
export function redactPii(input: string): Redaction {
  const originals = new Map<string, string>();
  const counts: Partial<Record<PiiType, number>> = {};
  let text = input;
  for (const { type, pattern, accept } of DETECTORS) {
    text = text.replace(pattern, (match) => {
      if (accept && !accept(match)) return match;
      counts[type] = (counts[type] ?? 0) + 1;
      const placeholder = `[${type}_${counts[type]}]`;
      originals.set(placeholder, match);
      return placeholder;
    });
  }
  return { text, originals, counts };
}

/** Puts the originals back wherever a placeholder appears in the answer's strings. */
export function restorePii<T>(value: T, originals: Map<string, string>): T {
  if (originals.size === 0) return value;
  const restore = (node: unknown): unknown => {
    if (typeof node === 'string')
      return node.replace(/\[(?:EMAIL|CARD|SSN|IP|PHONE)_\d+\]/g, (p) => originals.get(p) ?? p);
    if (Array.isArray(node)) return node.map(restore);
    if (node && typeof node === 'object')
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, restore(v)]));
    return node;
  };
  return restore(value) as T;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return digits.length >= 13 && sum % 10 === 0;
}
