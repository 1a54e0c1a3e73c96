import { fullFormats } from 'ajv-formats/dist/formats.js';

/**
 * Formats ajv-formats does not have, or has too loosely, defined as the reference does.
 *
 * - `iri`, `iri-reference` (RFC 3987): a string is an IRI when every non-ASCII character is a
 *   `ucschar` (or, in the query only, an `iprivate` character) and the URI it maps to (RFC 3987 §3.1:
 *   those characters percent-encoded as UTF-8) is a `uri` (an `iri-reference`: a `uri-reference`) as
 *   ajv-formats checks it.
 * - `byte` (OpenAPI: base64, RFC 4648 §4): the whole string is padded base64, optionally wrapped in
 *   lines (MIME-style `\r\n` or `\n` between groups of four, and at the end). ajv-formats' own check is multi-line
 *   (`m` flag): one valid line anywhere made any string pass ("ab==\n!!").
 */

type FormatCheck = (value: string) => boolean;

const uri = fullFormats.uri as FormatCheck;
const uriReference = fullFormats['uri-reference'] as RegExp;

function isUcschar(cp: number): boolean {
  if (cp >= 0xa0 && cp <= 0xd7ff) return true;
  if (cp >= 0xf900 && cp <= 0xfdcf) return true;
  if (cp >= 0xfdf0 && cp <= 0xffef) return true;
  if (cp >= 0x10000 && cp <= 0xefffd) return (cp & 0xfffe) !== 0xfffe; // not the plane's last two
  return false;
}

function isIprivate(cp: number): boolean {
  return (
    (cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0xffffd) || (cp >= 0x100000 && cp <= 0x10fffd)
  );
}

/** The URI an IRI maps to (RFC 3987 §3.1), or undefined when it has a character an IRI cannot have. */
export function iriToUri(value: string): string | undefined {
  let out = '';
  let inQuery = false;
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (ch === '?' && !inQuery) inQuery = true;
    else if (ch === '#') inQuery = false;
    if (cp < 0x80) {
      out += ch;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) return undefined; // a lone surrogate
    if (!isUcschar(cp) && !(inQuery && isIprivate(cp))) return undefined;
    out += encodeURIComponent(ch);
  }
  return out;
}

export function isIri(value: string): boolean {
  const mapped = iriToUri(value);
  return mapped !== undefined && uri(mapped);
}

export function isIriReference(value: string): boolean {
  const mapped = iriToUri(value);
  return mapped !== undefined && uriReference.test(mapped);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isByte(value: string): boolean {
  if (!/^[A-Za-z0-9+/=\r\n]*$/.test(value)) return false;
  const lines = value.split(/\r?\n/);
  // Line breaks only after groups of four (MIME wraps at 76 characters), none at the start.
  if (lines.slice(0, -1).some((line) => line.length === 0 || line.length % 4 !== 0)) return false;
  return BASE64.test(lines.join(''));
}

/** Added to every draft's ajv instance after ajv-formats (these replace or complete its list). */
export const EXTRA_FORMATS: Readonly<Record<string, FormatCheck>> = {
  byte: isByte,
  iri: isIri,
  'iri-reference': isIriReference,
};
