import { RE2JS } from 're2js';
import type { RegExpLike } from 'ajv/dist/types/index.js';

/**
 * Caller-supplied regular expressions (`pattern`, `patternProperties`) run on RE2JS, a pure JavaScript
 * port of RE2: matching takes time linear in the input, whatever the pattern. V8's own engine
 * backtracks: `(a+)+b` against 28 `a`s takes over a second, and each more `a` doubles it.
 *
 * Sources are written in ECMA-262 syntax, which RE2 does not read as-is. Each source is first checked
 * by V8 (syntax only, never run against an instance) to pick its mode as before: Unicode mode when
 * valid there, otherwise ECMA-262 non-Unicode mode (Annex B), which real-world schemas written for
 * other engines rely on (`\-`, `[\w-.]`, a lone `{`). It is then translated to an RE2 source with the
 * same meaning: `.` and `\s` keep their ECMA-262 sets, `\p{…}` names become RE2 classes (or explicit
 * ranges), `\uXXXX`, `\cX`, `\0`, identity and legacy octal escapes become `\x{…}`, `[]` and `[^]`
 * keep their meaning. What RE2 cannot express (backreferences, lookaround) is refused with a
 * PatternError, as is a counted repetition above RE2's limit of 1000.
 *
 * Known differences, both only in non-Unicode mode (sources invalid in Unicode mode): RE2 matches code
 * points, so `.` or `[^a]` match a whole astral character where ECMA-262 matches half of it, and a
 * quantifier after an astral character repeats all of it, not its second half. As before, `\p{L}` in
 * that mode is ECMA-262's identity escape: the characters `p{L}`.
 */

/** Why a caller's regular expression cannot be used. */
export class PatternError extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`pattern ${JSON.stringify(source)} ${reason}`);
    this.name = 'PatternError';
  }
}

/** A compiled pattern as ajv uses it (`test`), keyed in ajv's scope by `toString()`. */
export interface LinearRegExp extends RegExpLike {
  readonly source: string;
  readonly flags: string;
  toString(): string;
}

/**
 * V8 regular expressions for syntax checks only: Unicode mode when the source is valid there (so
 * `\p{L}` and astral characters behave as JSON Schema intends), otherwise ECMA-262 non-Unicode mode
 * (Annex B). Only a source invalid in both modes is an error. Never use the result to match caller
 * data against a caller's pattern: V8 backtracks (use `linearRegExp`).
 */
export function lenientRegExp(source: string, flags = ''): RegExp {
  try {
    return new RegExp(source, flags.includes('u') ? flags : `${flags}u`);
  } catch {
    return new RegExp(source, flags.replace('u', ''));
  }
}

/** The largest count RE2 accepts in `{n}`, `{n,}`, `{n,m}` (nested counts multiply). */
export const MAX_REPEAT = 1000;

const CACHE_LIMIT = 1000;
const cache = new Map<string, LinearRegExp>();

/**
 * Compiles an ECMA-262 source (flags: `u` or none, as ajv passes them) for linear-time matching.
 * Throws a PatternError naming the reason when the source is not a valid ECMA-262 regular expression
 * or uses what RE2 cannot express.
 */
export function linearRegExp(source: string, flags = 'u'): LinearRegExp {
  const key = `${flags}/${source}`;
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  if (/[^u]/.test(flags)) throw new PatternError(source, `cannot be used with flags "${flags}"`);
  let unicode: boolean;
  try {
    unicode = lenientRegExp(source, flags).unicode;
  } catch (error) {
    throw new PatternError(
      source,
      `is not a valid ECMA-262 regular expression (${(error as Error).message})`,
    );
  }
  const split = splitLeadingLookarounds(source);
  const compile = (part: string): RE2JS => {
    const translated = translatePattern(part, unicode);
    try {
      return RE2JS.compile(translated);
    } catch (error) {
      throw new PatternError(source, re2Reason((error as Error).message));
    }
  };
  let test: (input: string) => boolean;
  try {
    if (split) {
      // `^(?=A)(?!B)R`: lookarounds at position 0 only, so each is an independent match at the start.
      const rest = compile(`^(?:${split.rest})`);
      const positive = split.lookarounds.filter((l) => l.positive).map((l) => compile(`^(?:${l.body})`));
      const negative = split.lookarounds.filter((l) => !l.positive).map((l) => compile(`^(?:${l.body})`));
      test = (input) =>
        rest.test(input) && positive.every((re) => re.test(input)) && !negative.some((re) => re.test(input));
    } else {
      const re2 = compile(source);
      test = (input) => re2.test(input);
    }
  } catch (error) {
    // A part's own error names the part; name the caller's whole pattern instead.
    if (error instanceof PatternError && error.source !== source)
      throw new PatternError(source, error.reason);
    throw error;
  }
  const compiled: LinearRegExp = {
    source,
    flags,
    test,
    // ajv shares one compiled pattern per distinct `toString()` in an instance.
    toString: () => `/${source}/${flags} (re2)`,
  };
  while (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled);
  return compiled;
}

interface LeadingLookarounds {
  lookarounds: { positive: boolean; body: string }[];
  rest: string;
}

/**
 * `^(?=A)(?!B)…R` — one or more lookaheads right after a leading `^`, with no top-level `|` after
 * them — is the conjunction "R matches at 0, A matches at 0, B does not match at 0", each of which RE2
 * can run. (Schemas use this form for "any name but these": `^(?!@@)[\w@]+$`, `^(?!variables$).+$`.)
 * Returns undefined for any other form, or when a numbered escape could change meaning once split.
 */
export function splitLeadingLookarounds(source: string): LeadingLookarounds | undefined {
  if (!source.startsWith('^(?=') && !source.startsWith('^(?!')) return undefined;
  if (/\\[1-9]|\\k</.test(source)) return undefined;
  const lookarounds: LeadingLookarounds['lookarounds'] = [];
  let i = 1;
  while (source.startsWith('(?=', i) || source.startsWith('(?!', i)) {
    const end = groupEnd(source, i);
    if (end < 0) return undefined;
    lookarounds.push({ positive: source[i + 2] === '=', body: source.slice(i + 3, end) });
    i = end + 1;
  }
  const rest = source.slice(i);
  if (hasTopLevelAlternation(rest)) return undefined;
  return { lookarounds, rest };
}

/** Index of the `)` closing the group opened at `open`, skipping escapes and classes; -1 if none. */
function groupEnd(src: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Whether `src` has a `|` outside any group or class (its alternatives then need a group to anchor). */
export function hasTopLevelAlternation(src: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

const NO_BACKTRACKING = 'the linear-time regular expression engine has no backtracking';

function repeatReason(quantifier: string): string {
  return `repeats too much (${quantifier}): the linear-time regular expression engine allows counts up to ${MAX_REPEAT}, nested counts multiplied; use minLength/maxLength for lengths`;
}

function re2Reason(message: string): string {
  const detail = message.replace(/^error parsing regexp: /, '');
  const repeat = /^invalid repeat count: `(.*)`$/.exec(detail);
  if (repeat) return repeatReason(repeat[1]!);
  return `cannot be compiled by the linear-time regular expression engine (${detail})`;
}

// ---------------------------------------------------------------------------------------------------
// ECMA-262 → RE2 translation
// ---------------------------------------------------------------------------------------------------

type Range = readonly [number, number];

/** ECMA-262 `\s`: WhiteSpace and LineTerminator (Unicode `Zs`, TAB, VT, FF, ZWNBSP, LF, CR, LS, PS). */
const WHITE_SPACE: readonly Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
/** ECMA-262 LineTerminator: what `.` does not match without the `s` flag. */
const LINE_TERMINATORS: readonly Range[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];
const MAX_CODE_POINT = 0x10ffff;
const NOTHING = `[^${hex(0)}-${hex(MAX_CODE_POINT)}]`;
const ANYTHING = `[${hex(0)}-${hex(MAX_CODE_POINT)}]`;
const DOT = `[^${rangesBody(LINE_TERMINATORS)}]`;

/** Unicode General_Category values: long (and alias) names to the short names RE2 knows. */
const GENERAL_CATEGORY: Readonly<Record<string, string>> = {
  Other: 'C',
  Control: 'Cc',
  cntrl: 'Cc',
  Format: 'Cf',
  Unassigned: 'Cn',
  Private_Use: 'Co',
  Surrogate: 'Cs',
  Letter: 'L',
  Cased_Letter: 'LC',
  Lowercase_Letter: 'Ll',
  Modifier_Letter: 'Lm',
  Other_Letter: 'Lo',
  Titlecase_Letter: 'Lt',
  Uppercase_Letter: 'Lu',
  Mark: 'M',
  Combining_Mark: 'M',
  Spacing_Mark: 'Mc',
  Enclosing_Mark: 'Me',
  Nonspacing_Mark: 'Mn',
  Number: 'N',
  Decimal_Number: 'Nd',
  digit: 'Nd',
  Letter_Number: 'Nl',
  Other_Number: 'No',
  Punctuation: 'P',
  punct: 'P',
  Connector_Punctuation: 'Pc',
  Dash_Punctuation: 'Pd',
  Close_Punctuation: 'Pe',
  Final_Punctuation: 'Pf',
  Initial_Punctuation: 'Pi',
  Other_Punctuation: 'Po',
  Open_Punctuation: 'Ps',
  Symbol: 'S',
  Currency_Symbol: 'Sc',
  Modifier_Symbol: 'Sk',
  Math_Symbol: 'Sm',
  Other_Symbol: 'So',
  Separator: 'Z',
  Line_Separator: 'Zl',
  Paragraph_Separator: 'Zp',
  Space_Separator: 'Zs',
};
const GENERAL_CATEGORY_SHORT = new Set(Object.values(GENERAL_CATEGORY));

/** An escape or class item: one code point, or a set as RE2 writes it inside `[...]` (and alone). */
type Atom = { cp: number } | { set: string; alone: string };

/** ECMA-262 source (already known valid in the given mode) → RE2 source with the same matches. */
export function translatePattern(source: string, unicode: boolean): string {
  return new Translator(source, unicode).translate();
}

class Translator {
  private i = 0;
  private readonly captures: number;
  private readonly namedGroups: boolean;

  constructor(
    private readonly src: string,
    private readonly unicode: boolean,
  ) {
    const groups = countGroups(src);
    this.captures = groups.captures;
    this.namedGroups = groups.named;
  }

  translate(): string {
    let out = '';
    while (this.i < this.src.length) out += this.term();
    return out;
  }

  private unsupported(what: string, reason: string): never {
    throw new PatternError(this.src, `uses ${what}, which is not supported: ${reason}`);
  }

  private term(): string {
    const { src } = this;
    const c = src[this.i]!;
    switch (c) {
      case '\\':
        return this.escapeOutsideClass();
      case '[':
        this.i++;
        return this.characterClass();
      case '(':
        return this.groupOpen();
      case ')':
      case '|':
      case '*':
      case '+':
      case '?':
      case '^':
      case '$':
        this.i++;
        return c;
      case '.':
        this.i++;
        return DOT;
      case '{': {
        const quantifier = /\{(\d+)(?:(,)(\d*))?\}/y;
        quantifier.lastIndex = this.i;
        const match = quantifier.exec(src);
        if (!match) {
          this.i++;
          return hex(0x7b); // Annex B: a `{` that starts no quantifier is literal
        }
        this.i = quantifier.lastIndex;
        const [text, min, comma, max] = match;
        for (const count of [min, max])
          if (count && Number(count) > MAX_REPEAT) throw new PatternError(src, repeatReason(text));
        return `{${Number(min)}${comma ? `,${max ? Number(max) : ''}` : ''}}`;
      }
      default: {
        const cp = src.codePointAt(this.i)!;
        this.i += cp > 0xffff ? 2 : 1;
        return literal(cp);
      }
    }
  }

  private groupOpen(): string {
    const { src } = this;
    if (src[this.i + 1] !== '?') {
      this.i++;
      return '(?:'; // captures are never read: RE2 runs faster without them
    }
    const head = src.slice(this.i, this.i + 4);
    if (head.startsWith('(?:')) {
      this.i += 3;
      return '(?:';
    }
    if (head.startsWith('(?=') || head.startsWith('(?!'))
      this.unsupported(`a lookahead "${head.slice(0, 3)}"`, NO_BACKTRACKING);
    if (head === '(?<=' || head === '(?<!') this.unsupported(`a lookbehind "${head}"`, NO_BACKTRACKING);
    if (head.startsWith('(?<')) {
      const end = src.indexOf('>', this.i);
      this.i = end + 1;
      return '(?:';
    }
    // `(?i:…)` modifiers (ES2025; refused by V8 before Node 22) would need `m` and `s` translated.
    return this.unsupported('an inline modifier group', 'write the pattern without modifiers');
  }

  private escapeOutsideClass(): string {
    const { src } = this;
    const e = src[this.i + 1]!;
    switch (e) {
      case 'b':
      case 'B':
        this.i += 2;
        return `\\${e}`; // word boundaries: ASCII word characters in both engines
      case 'k':
        if (this.unicode || this.namedGroups)
          this.unsupported(
            `a named backreference "${/^\\k<[^>]*>/.exec(src.slice(this.i))?.[0] ?? '\\k'}"`,
            NO_BACKTRACKING,
          );
        break;
      default:
        if (e >= '1' && e <= '9') {
          const digits = /^\d+/.exec(src.slice(this.i + 1))![0];
          if (this.unicode || Number(digits) <= this.captures)
            this.unsupported(`a backreference "\\${digits}"`, NO_BACKTRACKING);
        }
    }
    const atom = this.escapeAtom(false);
    return 'cp' in atom ? literal(atom.cp) : atom.alone;
  }

  /** `\…` at `this.i`, outside a class (assertions and backreferences handled before) or inside one. */
  private escapeAtom(inClass: boolean): Atom {
    const { src, unicode } = this;
    this.i++; // the backslash
    const e = src.codePointAt(this.i)!;
    const ch = String.fromCodePoint(e);
    this.i += e > 0xffff ? 2 : 1;
    switch (ch) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { set: `\\${ch}`, alone: `\\${ch}` }; // ASCII in both engines
      case 's':
        return { set: rangesBody(WHITE_SPACE), alone: `[${rangesBody(WHITE_SPACE)}]` };
      case 'S':
        return { set: rangesBody(complement(WHITE_SPACE)), alone: `[^${rangesBody(WHITE_SPACE)}]` };
      case 't':
        return { cp: 0x09 };
      case 'n':
        return { cp: 0x0a };
      case 'v':
        return { cp: 0x0b };
      case 'f':
        return { cp: 0x0c };
      case 'r':
        return { cp: 0x0d };
      case 'b':
        return { cp: 0x08 }; // only reached inside a class: backspace
      case 'c': {
        const next = src[this.i] ?? '';
        if (/[A-Za-z]/.test(next) || (inClass && !unicode && /[0-9_]/.test(next))) {
          this.i++;
          return { cp: next.charCodeAt(0) % 32 };
        }
        this.i--; // Annex B: `\c` not followed by a control letter is a backslash, then `c`
        return { cp: 0x5c };
      }
      case 'x': {
        const hexDigits = /^[0-9A-Fa-f]{2}/.exec(src.slice(this.i));
        if (!hexDigits) return { cp: 0x78 };
        this.i += 2;
        return { cp: parseInt(hexDigits[0], 16) };
      }
      case 'u':
        return { cp: this.unicodeEscape() };
      case 'p':
      case 'P': {
        if (!unicode) return { cp: e }; // Annex B: identity escape
        const end = src.indexOf('}', this.i);
        const body = src.slice(this.i + 1, end);
        this.i = end + 1;
        return property(body, ch === 'P');
      }
      default:
        if (ch >= '0' && ch <= '9') return { cp: this.decimalEscape(ch) };
        return { cp: e }; // identity escape: `\-`, `\/`, `\.`, and in Annex B any other character
    }
  }

  /** `\0`, or (Annex B, no backreference) `\8`, `\9` and legacy octal escapes such as `\12`. */
  private decimalEscape(first: string): number {
    if (first === '8' || first === '9') return first.charCodeAt(0);
    const octal = /^[0-7]{0,2}/.exec(this.src.slice(this.i))![0];
    // LegacyOctalEscapeSequence: at most \377.
    const digits = first <= '3' ? octal : octal.slice(0, 1);
    this.i += this.unicode ? 0 : digits.length;
    return this.unicode ? 0 : parseInt(first + digits, 8);
  }

  /** After `\u`: `{…}` (Unicode mode), four hex digits (a surrogate pair joined), or Annex B `u`. */
  private unicodeEscape(): number {
    const { src } = this;
    if (this.unicode && src[this.i] === '{') {
      const end = src.indexOf('}', this.i);
      const cp = parseInt(src.slice(this.i + 1, end), 16);
      this.i = end + 1;
      return cp;
    }
    const four = /^[0-9A-Fa-f]{4}/.exec(src.slice(this.i));
    if (!four) return 0x75;
    this.i += 4;
    const unit = parseInt(four[0], 16);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = /^\\u([Dd][C-Fc-f][0-9A-Fa-f]{2})/.exec(src.slice(this.i));
      if (low) {
        this.i += 6;
        return 0x10000 + ((unit - 0xd800) << 10) + (parseInt(low[1]!, 16) - 0xdc00);
      }
    }
    return unit;
  }

  /** After `[`: up to and including the closing `]`. */
  private characterClass(): string {
    const { src } = this;
    const negated = src[this.i] === '^';
    if (negated) this.i++;
    const items: string[] = [];
    while (this.i < src.length && src[this.i] !== ']') {
      const from = this.classAtom();
      if (src[this.i] === '-' && src[this.i + 1] !== ']' && this.i + 1 < src.length) {
        this.i++;
        const to = this.classAtom();
        if ('cp' in from && 'cp' in to) items.push(`${hex(from.cp)}-${hex(to.cp)}`);
        // Annex B: a class escape beside `-` makes the `-` literal (`[\w-.]`).
        else items.push(setBody(from), hex(0x2d), setBody(to));
      } else {
        items.push(setBody(from));
      }
    }
    this.i++; // `]`
    const body = items.join('');
    if (body === '') return negated ? ANYTHING : NOTHING; // `[]` matches nothing, `[^]` anything
    return `[${negated ? '^' : ''}${body}]`;
  }

  private classAtom(): Atom {
    const { src } = this;
    if (src[this.i] === '\\') return this.escapeAtom(true);
    const cp = src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return { cp };
  }
}

/** Capturing groups (to tell a backreference from an Annex B octal escape) and whether any is named. */
function countGroups(src: string): { captures: number; named: boolean } {
  let captures = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (src[i + 1] !== '?') captures++;
      else if (src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') {
        captures++;
        named = true;
      }
    }
  }
  return { captures, named };
}

function setBody(atom: Atom): string {
  return 'cp' in atom ? hex(atom.cp) : atom.set;
}

function hex(cp: number): string {
  return `\\x{${cp.toString(16)}}`;
}

/** One code point as an RE2 literal: letters, digits and `_` as they are, anything else as `\x{…}`. */
function literal(cp: number): string {
  return /[A-Za-z0-9_]/.test(String.fromCharCode(cp)) && cp < 0x80 ? String.fromCharCode(cp) : hex(cp);
}

function rangesBody(ranges: readonly Range[]): string {
  return ranges.map(([from, to]) => (from === to ? hex(from) : `${hex(from)}-${hex(to)}`)).join('');
}

function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) out.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/**
 * `\p{body}` / `\P{body}` (Unicode mode; V8 has checked the name). General categories and scripts
 * use RE2's own tables (the same Unicode version as this Node's); other properties (binary ones such as
 * `Alphabetic`, `Script_Extensions`, four-letter script codes) become the ranges V8 matches.
 */
function property(body: string, negated: boolean): Atom {
  const native = re2PropertyName(body);
  if (native) {
    const escape = `\\${negated ? 'P' : 'p'}{${native}}`;
    return { set: escape, alone: escape };
  }
  const ranges = propertyRanges(body);
  if (negated) return { set: rangesBody(complement(ranges)), alone: rangesOrNothing(ranges, true) };
  return { set: rangesBody(ranges), alone: rangesOrNothing(ranges, false) };
}

function rangesOrNothing(ranges: readonly Range[], negated: boolean): string {
  if (ranges.length === 0) return negated ? ANYTHING : NOTHING;
  return `[${negated ? '^' : ''}${rangesBody(ranges)}]`;
}

const re2Known = new Map<string, boolean>();

function re2Knows(name: string): boolean {
  let known = re2Known.get(name);
  if (known === undefined) {
    try {
      RE2JS.compile(`\\p{${name}}`);
      known = true;
    } catch {
      known = false;
    }
    re2Known.set(name, known);
  }
  return known;
}

function re2PropertyName(body: string): string | undefined {
  const eq = body.indexOf('=');
  if (eq < 0) {
    const short = GENERAL_CATEGORY[body] ?? (GENERAL_CATEGORY_SHORT.has(body) ? body : undefined);
    return short && re2Knows(short) ? short : undefined;
  }
  const name = body.slice(0, eq);
  const value = body.slice(eq + 1);
  if (name === 'General_Category' || name === 'gc') return re2PropertyName(value);
  // Script names as RE2 knows them (`Greek`); four-letter codes (`Grek`) are scanned.
  if ((name === 'Script' || name === 'sc') && /^[A-Z][a-z]+(_[A-Z][a-z]+)*$/.test(value) && re2Knows(value))
    return value;
  return undefined;
}

const scanned = new Map<string, Range[]>();

/** The code points V8 puts in `\p{body}`: computed once per property (about 30 ms), then kept. */
function propertyRanges(body: string): Range[] {
  let ranges = scanned.get(body);
  if (ranges) return ranges;
  const re = new RegExp(`^\\p{${body}}$`, 'u');
  ranges = [];
  let start = -1;
  for (let cp = 0; cp <= MAX_CODE_POINT; cp++) {
    if (re.test(String.fromCodePoint(cp))) {
      if (start < 0) start = cp;
    } else if (start >= 0) {
      ranges.push([start, cp - 1]);
      start = -1;
    }
  }
  if (start >= 0) ranges.push([start, MAX_CODE_POINT]);
  scanned.set(body, ranges);
  return ranges;
}
