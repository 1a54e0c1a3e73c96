/**
 * The official JSON-Schema-Test-Suite (json-schema-org/JSON-Schema-Test-Suite, MIT, Copyright (c) 2012
 * Julian Berman; see libs/llm/test/fixtures/JSON-Schema-Test-Suite/SOURCE.md, vendored with its LICENSE) run through SchemaCompiler.
 *
 * For draft4, draft6, draft7, draft2019-09 and draft2020-12: every required test file plus
 * `optional/format/*.json` (the service asserts formats). Each case's schema gets the draft's
 * `$schema` when it has none, so the compiler picks the draft. A root boolean schema `b` is sent as the
 * equivalent `{ $schema, allOf: [b] }`: the service's request contract (UserSchema) only carries objects.
 *
 * Cases whose schema references a document it does not define (the suite's `http://localhost:1234/...`
 * remotes, or any other URI) must be refused with INVALID_SCHEMA: remote references are never fetched.
 * The meta-schemas bundled with ajv count as defined (they are resolved locally, never fetched).
 *
 * Every other test must agree with the suite, or be listed in KNOWN_LIMITATIONS (and in
 * docs/validator-limitations.md) with its reason. A listed limitation that starts agreeing fails too.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ServiceError } from '@sps/contracts';
import { EVALUATION_FAILURE_PREFIX, SchemaCompiler } from '../../src/validation/schema-compiler.js';

const SUITE_DIR = fileURLToPath(new URL('../fixtures/JSON-Schema-Test-Suite', import.meta.url));
const DOC_FILE = fileURLToPath(new URL('../../../../docs/validator-limitations.md', import.meta.url));

interface SuiteDraft {
  dir: string;
  $schema: string;
  idKeyword: 'id' | '$id';
  /** Up to draft-07 a `$ref` makes its siblings, `$id` included, be ignored. */
  refOverridesSiblings: boolean;
  /** Meta-schemas the draft's ajv instance bundles: resolved locally, not remote. */
  bundled: RegExp;
}

const DRAFTS: SuiteDraft[] = [
  {
    dir: 'draft4',
    $schema: 'http://json-schema.org/draft-04/schema#',
    idKeyword: 'id',
    refOverridesSiblings: true,
    bundled: /^http:\/\/json-schema\.org\/draft-04\/schema$/,
  },
  {
    dir: 'draft6',
    $schema: 'http://json-schema.org/draft-06/schema#',
    idKeyword: '$id',
    refOverridesSiblings: true,
    bundled: /^http:\/\/json-schema\.org\/draft-0[67]\/schema$/,
  },
  {
    dir: 'draft7',
    $schema: 'http://json-schema.org/draft-07/schema#',
    idKeyword: '$id',
    refOverridesSiblings: true,
    bundled: /^http:\/\/json-schema\.org\/draft-07\/schema$/,
  },
  {
    dir: 'draft2019-09',
    $schema: 'https://json-schema.org/draft/2019-09/schema',
    idKeyword: '$id',
    refOverridesSiblings: false,
    bundled: /^https:\/\/json-schema\.org\/draft\/2019-09\/(schema|meta\/[a-z-]+)$/,
  },
  {
    dir: 'draft2020-12',
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    idKeyword: '$id',
    refOverridesSiblings: false,
    bundled: /^https:\/\/json-schema\.org\/draft\/2020-12\/(schema|meta\/[a-z-]+)$/,
  },
];

// ---------------------------------------------------------------------------------------------------
// Known limitations: `<draft>/<file> :: <case description> :: <test description>` → one-line reason.
// Keep in sync with docs/validator-limitations.md (checked below).
// ---------------------------------------------------------------------------------------------------
const REASON = {
  multipleOfPrecision:
    '`multipleOfPrecision: 9` (so that 19.99 is a multiple of 0.01) lets 1e308 pass a multiple-of check whose exact quotient overflows; prices matter more than this overflow case',
  proto: 'ajv never applies a `properties` entry named `__proto__` (its prototype-pollution guard)',
  dtOffset: 'ajv-formats `date-time` accepts a numeric offset without minutes (`+01`)',
  dtHour24:
    'ajv-formats `date-time` accepts hour 24 when it reads as 23:59:60 UTC (its leap-second check skips the hour range)',
  dtNines:
    'ajv-formats `date-time` parses seconds as a float: 59.999999999999999 becomes 60, allowed only as a leap second at 23:59 UTC',
  hostDot: 'ajv-formats `hostname` accepts a trailing dot',
  hostALabel:
    'ajv-formats `hostname` checks letters-digits-hyphen syntax only; it does not decode and check Punycode A-labels (IDNA2008)',
  idnHost: 'format `idn-hostname` is not in ajv-formats; unknown formats are ignored, so every string passes',
  idnEmail: 'format `idn-email` is not in ajv-formats; unknown formats are ignored, so every string passes',
  iri: 'format `iri` is checked as the URI it maps to (RFC 3987 §3.1) with ajv-formats `uri`, which is looser than RFC 3986 and accepts this string',
  uri: 'ajv-formats `uri` is looser than RFC 3986 and accepts this string',
  uriRef: 'ajv-formats `uri-reference` is looser than RFC 3986 and accepts this string',
  uriTplRejects: 'ajv-formats `uri-template` rejects this valid RFC 6570 template',
  uriTplAccepts: 'ajv-formats `uri-template` accepts this string that RFC 6570 does not allow',
  duration:
    'ajv-formats `duration` accepts skipped units (`P1Y2D`, `PT1H2S`) that RFC 3339 Appendix A does not allow',
  uuidUrn: 'ajv-formats `uuid` accepts a `urn:uuid:` prefix',
  email: 'ajv-formats `email` rejects quoted local parts and address literals that RFC 5321 allows',
  regexAnnexB:
    'the `regex` format accepts what `pattern` accepts: Unicode mode, else ECMA-262 non-Unicode (Annex B) mode, where `\\a` is an identity escape',
  formatAssert:
    'the service asserts `format` (ajv-formats) in every draft; 2020-12 makes `format` an annotation by default',
  recursiveRef:
    'ajv follows `$recursiveRef` to the outer `$recursiveAnchor` even when the initially targeted resource has none',
  refOverflow:
    "ajv's reference resolver overflows the stack on an `$id` whose sibling `$ref` points into its own `$defs`; the schema is refused (INVALID_SCHEMA)",
  dynHash:
    'ajv only supports `$dynamicRef` values that are a plain `#anchor`; the schema is refused (INVALID_SCHEMA)',
  dynOverflow:
    "ajv's `$dynamicRef` recursion does not terminate here; validation reports that the schema could not be evaluated",
  dynScope:
    'ajv implements `$dynamicRef` dynamic-scope resolution only partly (2020-12 semantics differ here)',
  unevalIf:
    'ajv drops the annotations of an `if` that has no `then`/`else` (or no `then`), so what `if` evaluated counts as unevaluated',
  unevalContains:
    'ajv does not track which items `contains` evaluated (a 2020-12 annotation) for `unevaluatedItems`',
  unevalNested:
    "ajv's `unevaluatedItems` mis-tracks the items that `items` evaluated inside an `anyOf` branch",
  vocabulary:
    'custom meta-schemas are never fetched: a schema with an unknown `$schema` is validated as 2020-12 with every vocabulary',
} as const;

const KNOWN_LIMITATIONS = new Map<string, string>([
  [
    'draft4/multipleOf.json :: float division = inf :: invalid, but naive implementations may raise an overflow error',
    REASON.multipleOfPrecision,
  ],
  [
    'draft6/multipleOf.json :: float division = inf :: always invalid, but naive implementations may raise an overflow error',
    REASON.multipleOfPrecision,
  ],
  [
    'draft7/multipleOf.json :: float division = inf :: always invalid, but naive implementations may raise an overflow error',
    REASON.multipleOfPrecision,
  ],
  [
    'draft2019-09/multipleOf.json :: float division = inf :: always invalid, but naive implementations may raise an overflow error',
    REASON.multipleOfPrecision,
  ],
  [
    'draft2020-12/multipleOf.json :: float division = inf :: always invalid, but naive implementations may raise an overflow error',
    REASON.multipleOfPrecision,
  ],
  [
    'draft4/optional/format/date-time.json :: validation of date-time strings :: a numeric offset without minutes is invalid',
    REASON.dtOffset,
  ],
  [
    'draft4/optional/format/date-time.json :: validation of date-time strings :: a second fraction of fifteen nines is valid',
    REASON.dtNines,
  ],
  [
    'draft4/optional/format/date-time.json :: validation of date-time strings :: hour 24 is invalid even with a leap second',
    REASON.dtHour24,
  ],
  ['draft4/optional/format/hostname.json :: validation of host names :: trailing dot', REASON.hostDot],
  [
    'draft4/optional/format/uri.json :: validation of URIs :: leading zero in an embedded IPv4 address is invalid',
    REASON.uri,
  ],
  ['draft4/optional/format/uri.json :: validation of URIs :: non-numeric port is invalid', REASON.uri],
  [
    'draft4/optional/format/uri.json :: validation of URIs :: square brackets are not allowed in a path segment',
    REASON.uri,
  ],
  [
    'draft4/properties.json :: properties whose names are Javascript object property names :: __proto__ not valid',
    REASON.proto,
  ],
  [
    'draft6/optional/format/date-time.json :: validation of date-time strings :: a numeric offset without minutes is invalid',
    REASON.dtOffset,
  ],
  [
    'draft6/optional/format/date-time.json :: validation of date-time strings :: a second fraction of fifteen nines is valid',
    REASON.dtNines,
  ],
  [
    'draft6/optional/format/date-time.json :: validation of date-time strings :: hour 24 is invalid even with a leap second',
    REASON.dtHour24,
  ],
  ['draft6/optional/format/hostname.json :: validation of host names :: trailing dot', REASON.hostDot],
  [
    'draft6/optional/format/uri-reference.json :: validation of URI References :: a colon in the first segment of a relative-path reference',
    REASON.uriRef,
  ],
  [
    'draft6/optional/format/uri-reference.json :: validation of URI References :: a double quote in a path',
    REASON.uriRef,
  ],
  [
    'draft6/optional/format/uri-reference.json :: validation of URI References :: a leading zero in the IPv4 part of an IPv6 literal',
    REASON.uriRef,
  ],
  [
    'draft6/optional/format/uri-reference.json :: validation of URI References :: a non-numeric port in a network-path reference',
    REASON.uriRef,
  ],
  [
    'draft6/optional/format/uri-reference.json :: validation of URI References :: more than one at-sign in the authority',
    REASON.uriRef,
  ],
  [
    'draft6/optional/format/uri-reference.json :: validation of URI References :: square brackets outside an authority',
    REASON.uriRef,
  ],
  [
    'draft6/optional/format/uri-template.json :: format: uri-template :: a delete character in a literal is invalid',
    REASON.uriTplAccepts,
  ],
  [
    'draft6/optional/format/uri-template.json :: format: uri-template :: a dotted variable name is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft6/optional/format/uri-template.json :: format: uri-template :: an apostrophe in a literal is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft6/optional/format/uri.json :: validation of URIs :: leading zero in an embedded IPv4 address is invalid',
    REASON.uri,
  ],
  ['draft6/optional/format/uri.json :: validation of URIs :: non-numeric port is invalid', REASON.uri],
  [
    'draft6/optional/format/uri.json :: validation of URIs :: square brackets are not allowed in a path segment',
    REASON.uri,
  ],
  [
    'draft6/properties.json :: properties whose names are Javascript object property names :: __proto__ not valid',
    REASON.proto,
  ],
  [
    'draft7/optional/format/date-time.json :: validation of date-time strings :: a numeric offset without minutes is invalid',
    REASON.dtOffset,
  ],
  [
    'draft7/optional/format/date-time.json :: validation of date-time strings :: a second fraction of fifteen nines is valid',
    REASON.dtNines,
  ],
  [
    'draft7/optional/format/date-time.json :: validation of date-time strings :: hour 24 is invalid even with a leap second',
    REASON.dtHour24,
  ],
  [
    'draft7/optional/format/ecmascript-regex.json :: \\a is not an ECMA 262 control escape :: when used as a pattern',
    REASON.regexAnnexB,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Arabic-Indic digits mixed with Extended Arabic-Indic digits',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with a Nonspacing Mark',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with a Spacing Combining Mark',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with an Enclosing Mark',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Exceptions that are DISALLOWED, left-to-right chars',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Exceptions that are DISALLOWED, right-to-left chars',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Greek KERAIA not followed by Greek',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Greek KERAIA not followed by anything',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERESH not preceded by Hebrew',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERESH not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERSHAYIM not preceded by Hebrew',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERSHAYIM not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: KATAKANA MIDDLE DOT with no Hiragana, Katakana, or Han',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: KATAKANA MIDDLE DOT with no other characters',
    REASON.hostALabel,
  ],
  [
    "draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with no following 'l'",
    REASON.hostALabel,
  ],
  [
    "draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with no preceding 'l'",
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with nothing following',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with nothing preceding',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: ZERO WIDTH JOINER not preceded by Virama',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: ZERO WIDTH JOINER not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: contains "--" in the 3rd and 4th position',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: contains illegal char U+302E Hangul single dot tone mark',
    REASON.hostALabel,
  ],
  [
    'draft7/optional/format/hostname.json :: validation of A-label (punycode) host names :: invalid Punycode',
    REASON.hostALabel,
  ],
  ['draft7/optional/format/hostname.json :: validation of host names :: trailing dot', REASON.hostDot],
  [
    'draft7/optional/format/idn-email.json :: validation of an internationalized e-mail addresses :: a fullwidth commercial at is not a local-part separator',
    REASON.idnEmail,
  ],
  [
    'draft7/optional/format/idn-email.json :: validation of an internationalized e-mail addresses :: an invalid e-mail/idn e-mail address',
    REASON.idnEmail,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to a Bidi rule violation is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to a disallowed code point is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to only ASCII is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Arabic-Indic digits mixed with Extended Arabic-Indic digits',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with a Nonspacing Mark',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with a Spacing Combining Mark',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with an Enclosing Mark',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Bidi domain name with a digit-first label is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Exceptions that are DISALLOWED, left-to-right chars',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Exceptions that are DISALLOWED, right-to-left chars',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Greek KERAIA not followed by Greek',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Greek KERAIA not followed by anything',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERESH not preceded by Hebrew',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERESH not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERSHAYIM not preceded by Hebrew',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERSHAYIM not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: KATAKANA MIDDLE DOT with no Hiragana, Katakana, or Han',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: KATAKANA MIDDLE DOT with no other characters',
    REASON.idnHost,
  ],
  [
    "draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with no following 'l'",
    REASON.idnHost,
  ],
  [
    "draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with no preceding 'l'",
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with nothing following',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with nothing preceding',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label contains "--" in the 3rd and 4th position',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label ends with a dash',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label starts and ends with a dash',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label starts with a dash',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: ZERO WIDTH JOINER not preceded by Virama',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: ZERO WIDTH JOINER not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: a U-label whose A-label form is longer than 63 octets is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: a name longer than 253 characters is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: a single label of 64 characters is too long',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: contains illegal char U+302E Hangul single dot tone mark',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: empty label between two dots is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: empty string',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: illegal first char U+302E Hangul single dot tone mark',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: invalid Punycode',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: invalid label, correct Punycode',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: label starting with a digit before a right-to-left letter is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: left-to-right label containing a right-to-left letter is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: non-canonical Punycode that does not re-encode to itself is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: right-to-left label mixing both digit types is invalid',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of internationalized host names :: zero width non-joiner must pass at every occurrence',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading dot',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single dot',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing dot',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft7/optional/format/iri.json :: validation of IRIs :: an IPv6 address without enclosing brackets is invalid',
    REASON.iri,
  ],
  [
    'draft7/optional/format/iri.json :: validation of IRIs :: an IPv6 host whose embedded IPv4 has a leading zero is invalid',
    REASON.iri,
  ],
  [
    'draft7/optional/format/uri-reference.json :: validation of URI References :: a colon in the first segment of a relative-path reference',
    REASON.uriRef,
  ],
  [
    'draft7/optional/format/uri-reference.json :: validation of URI References :: a double quote in a path',
    REASON.uriRef,
  ],
  [
    'draft7/optional/format/uri-reference.json :: validation of URI References :: a leading zero in the IPv4 part of an IPv6 literal',
    REASON.uriRef,
  ],
  [
    'draft7/optional/format/uri-reference.json :: validation of URI References :: a non-numeric port in a network-path reference',
    REASON.uriRef,
  ],
  [
    'draft7/optional/format/uri-reference.json :: validation of URI References :: more than one at-sign in the authority',
    REASON.uriRef,
  ],
  [
    'draft7/optional/format/uri-reference.json :: validation of URI References :: square brackets outside an authority',
    REASON.uriRef,
  ],
  [
    'draft7/optional/format/uri-template.json :: format: uri-template :: a delete character in a literal is invalid',
    REASON.uriTplAccepts,
  ],
  [
    'draft7/optional/format/uri-template.json :: format: uri-template :: a dotted variable name is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft7/optional/format/uri-template.json :: format: uri-template :: an apostrophe in a literal is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft7/optional/format/uri.json :: validation of URIs :: leading zero in an embedded IPv4 address is invalid',
    REASON.uri,
  ],
  ['draft7/optional/format/uri.json :: validation of URIs :: non-numeric port is invalid', REASON.uri],
  [
    'draft7/optional/format/uri.json :: validation of URIs :: square brackets are not allowed in a path segment',
    REASON.uri,
  ],
  [
    'draft7/properties.json :: properties whose names are Javascript object property names :: __proto__ not valid',
    REASON.proto,
  ],
  [
    'draft2019-09/optional/format/date-time.json :: validation of date-time strings :: a numeric offset without minutes is invalid',
    REASON.dtOffset,
  ],
  [
    'draft2019-09/optional/format/date-time.json :: validation of date-time strings :: a second fraction of fifteen nines is valid',
    REASON.dtNines,
  ],
  [
    'draft2019-09/optional/format/date-time.json :: validation of date-time strings :: hour 24 is invalid even with a leap second',
    REASON.dtHour24,
  ],
  [
    'draft2019-09/optional/format/duration.json :: validation of duration strings :: hours and seconds cannot appear without minutes',
    REASON.duration,
  ],
  [
    'draft2019-09/optional/format/duration.json :: validation of duration strings :: years and days cannot appear without months',
    REASON.duration,
  ],
  [
    'draft2019-09/optional/format/ecmascript-regex.json :: \\a is not an ECMA 262 control escape :: when used as a pattern',
    REASON.regexAnnexB,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Arabic-Indic digits mixed with Extended Arabic-Indic digits',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with a Nonspacing Mark',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with a Spacing Combining Mark',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with an Enclosing Mark',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Exceptions that are DISALLOWED, left-to-right chars',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Exceptions that are DISALLOWED, right-to-left chars',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Greek KERAIA not followed by Greek',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Greek KERAIA not followed by anything',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERESH not preceded by Hebrew',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERESH not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERSHAYIM not preceded by Hebrew',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERSHAYIM not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: KATAKANA MIDDLE DOT with no Hiragana, Katakana, or Han',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: KATAKANA MIDDLE DOT with no other characters',
    REASON.hostALabel,
  ],
  [
    "draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with no following 'l'",
    REASON.hostALabel,
  ],
  [
    "draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with no preceding 'l'",
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with nothing following',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with nothing preceding',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: ZERO WIDTH JOINER not preceded by Virama',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: ZERO WIDTH JOINER not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: contains "--" in the 3rd and 4th position',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: contains illegal char U+302E Hangul single dot tone mark',
    REASON.hostALabel,
  ],
  [
    'draft2019-09/optional/format/hostname.json :: validation of A-label (punycode) host names :: invalid Punycode',
    REASON.hostALabel,
  ],
  ['draft2019-09/optional/format/hostname.json :: validation of host names :: trailing dot', REASON.hostDot],
  [
    'draft2019-09/optional/format/idn-email.json :: validation of an internationalized e-mail addresses :: a fullwidth commercial at is not a local-part separator',
    REASON.idnEmail,
  ],
  [
    'draft2019-09/optional/format/idn-email.json :: validation of an internationalized e-mail addresses :: an invalid e-mail/idn e-mail address',
    REASON.idnEmail,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to a Bidi rule violation is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to a disallowed code point is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to only ASCII is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Arabic-Indic digits mixed with Extended Arabic-Indic digits',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with a Nonspacing Mark',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with a Spacing Combining Mark',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with an Enclosing Mark',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Bidi domain name with a digit-first label is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Exceptions that are DISALLOWED, left-to-right chars',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Exceptions that are DISALLOWED, right-to-left chars',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Greek KERAIA not followed by Greek',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Greek KERAIA not followed by anything',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERESH not preceded by Hebrew',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERESH not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERSHAYIM not preceded by Hebrew',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERSHAYIM not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: KATAKANA MIDDLE DOT with no Hiragana, Katakana, or Han',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: KATAKANA MIDDLE DOT with no other characters',
    REASON.idnHost,
  ],
  [
    "draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with no following 'l'",
    REASON.idnHost,
  ],
  [
    "draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with no preceding 'l'",
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with nothing following',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with nothing preceding',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label contains "--" in the 3rd and 4th position',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label ends with a dash',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label starts and ends with a dash',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label starts with a dash',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: ZERO WIDTH JOINER not preceded by Virama',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: ZERO WIDTH JOINER not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: a U-label whose A-label form is longer than 63 octets is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: a name longer than 253 characters is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: a single label of 64 characters is too long',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: contains illegal char U+302E Hangul single dot tone mark',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: empty label between two dots is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: empty string',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: illegal first char U+302E Hangul single dot tone mark',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: invalid Punycode',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: invalid label, correct Punycode',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: label starting with a digit before a right-to-left letter is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: left-to-right label containing a right-to-left letter is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: non-canonical Punycode that does not re-encode to itself is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: right-to-left label mixing both digit types is invalid',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of internationalized host names :: zero width non-joiner must pass at every occurrence',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading dot',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single dot',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing dot',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2019-09/optional/format/iri.json :: validation of IRIs :: an IPv6 address without enclosing brackets is invalid',
    REASON.iri,
  ],
  [
    'draft2019-09/optional/format/iri.json :: validation of IRIs :: an IPv6 host whose embedded IPv4 has a leading zero is invalid',
    REASON.iri,
  ],
  [
    'draft2019-09/optional/format/uri-reference.json :: validation of URI References :: a colon in the first segment of a relative-path reference',
    REASON.uriRef,
  ],
  [
    'draft2019-09/optional/format/uri-reference.json :: validation of URI References :: a double quote in a path',
    REASON.uriRef,
  ],
  [
    'draft2019-09/optional/format/uri-reference.json :: validation of URI References :: a leading zero in the IPv4 part of an IPv6 literal',
    REASON.uriRef,
  ],
  [
    'draft2019-09/optional/format/uri-reference.json :: validation of URI References :: a non-numeric port in a network-path reference',
    REASON.uriRef,
  ],
  [
    'draft2019-09/optional/format/uri-reference.json :: validation of URI References :: more than one at-sign in the authority',
    REASON.uriRef,
  ],
  [
    'draft2019-09/optional/format/uri-reference.json :: validation of URI References :: square brackets outside an authority',
    REASON.uriRef,
  ],
  [
    'draft2019-09/optional/format/uri-template.json :: format: uri-template :: a delete character in a literal is invalid',
    REASON.uriTplAccepts,
  ],
  [
    'draft2019-09/optional/format/uri-template.json :: format: uri-template :: a dotted variable name is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft2019-09/optional/format/uri-template.json :: format: uri-template :: an apostrophe in a literal is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft2019-09/optional/format/uri.json :: validation of URIs :: leading zero in an embedded IPv4 address is invalid',
    REASON.uri,
  ],
  ['draft2019-09/optional/format/uri.json :: validation of URIs :: non-numeric port is invalid', REASON.uri],
  [
    'draft2019-09/optional/format/uri.json :: validation of URIs :: square brackets are not allowed in a path segment',
    REASON.uri,
  ],
  ['draft2019-09/optional/format/uuid.json :: uuid format :: URN prefixed UUID is invalid', REASON.uuidUrn],
  [
    'draft2019-09/properties.json :: properties whose names are Javascript object property names :: __proto__ not valid',
    REASON.proto,
  ],
  [
    'draft2019-09/recursiveRef.json :: $recursiveRef with no $recursiveAnchor in the initial target schema resource :: leaf node does not match: recursion uses the inner schema',
    REASON.recursiveRef,
  ],
  [
    'draft2019-09/recursiveRef.json :: $recursiveRef with no $recursiveAnchor in the initial target schema resource :: leaf node matches: recursion uses the inner schema',
    REASON.recursiveRef,
  ],
  ['draft2019-09/ref.json :: URN ref with nested pointer ref :: a non-string is invalid', REASON.refOverflow],
  ['draft2019-09/ref.json :: URN ref with nested pointer ref :: a string is valid', REASON.refOverflow],
  ['draft2019-09/ref.json :: refs with relative uris and defs :: invalid on inner field', REASON.refOverflow],
  ['draft2019-09/ref.json :: refs with relative uris and defs :: invalid on outer field', REASON.refOverflow],
  ['draft2019-09/ref.json :: refs with relative uris and defs :: valid on both fields', REASON.refOverflow],
  [
    'draft2019-09/ref.json :: relative refs with absolute uris and defs :: invalid on inner field',
    REASON.refOverflow,
  ],
  [
    'draft2019-09/ref.json :: relative refs with absolute uris and defs :: invalid on outer field',
    REASON.refOverflow,
  ],
  [
    'draft2019-09/ref.json :: relative refs with absolute uris and defs :: valid on both fields',
    REASON.refOverflow,
  ],
  [
    'draft2019-09/unevaluatedItems.json :: unevaluatedItems can see annotations from if without then and else :: valid in case if is evaluated',
    REASON.unevalIf,
  ],
  [
    'draft2019-09/unevaluatedItems.json :: unevaluatedItems with nested items :: with invalid additional item',
    REASON.unevalNested,
  ],
  [
    'draft2019-09/unevaluatedItems.json :: unevaluatedItems with nested items :: with no additional items',
    REASON.unevalNested,
  ],
  [
    'draft2019-09/unevaluatedProperties.json :: unevaluatedProperties can see annotations from if without then and else :: valid in case if is evaluated',
    REASON.unevalIf,
  ],
  [
    'draft2019-09/unevaluatedProperties.json :: unevaluatedProperties with if/then/else, then not defined :: when if is false and has unevaluated properties',
    REASON.unevalIf,
  ],
  [
    'draft2019-09/unevaluatedProperties.json :: unevaluatedProperties with if/then/else, then not defined :: when if is true and has no unevaluated properties',
    REASON.unevalIf,
  ],
  [
    'draft2019-09/vocabulary.json :: schema that uses custom metaschema with with no validation vocabulary :: no validation: invalid number, but it still validates',
    REASON.vocabulary,
  ],
  [
    'draft2020-12/dynamicRef.json :: $dynamicRef avoids the root of each schema, but scopes are still registered :: data is not sufficient for schema at second#/$defs/length',
    REASON.dynOverflow,
  ],
  [
    'draft2020-12/dynamicRef.json :: $dynamicRef avoids the root of each schema, but scopes are still registered :: data is sufficient for schema at second#/$defs/length',
    REASON.dynOverflow,
  ],
  [
    'draft2020-12/dynamicRef.json :: $dynamicRef points to a boolean schema :: follow $dynamicRef to a false schema',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: $dynamicRef skips over intermediate resources - direct reference :: integer property passes',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef resolves to the first $dynamicAnchor still in scope that is encountered when the schema is evaluated :: An array of strings is valid',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef that initially resolves to a schema with a matching $dynamicAnchor resolves to the first $dynamicAnchor in the dynamic scope :: The recursive part is not valid against the root',
    REASON.dynHash,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef that initially resolves to a schema with a matching $dynamicAnchor resolves to the first $dynamicAnchor in the dynamic scope :: The recursive part is valid against the root',
    REASON.dynHash,
  ],
  [
    "draft2020-12/dynamicRef.json :: A $dynamicRef that initially resolves to a schema without a matching $dynamicAnchor behaves like a normal $ref to $anchor :: The recursive part doesn't need to validate against the root",
    REASON.dynHash,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef to a $dynamicAnchor in the same schema resource behaves like a normal $ref to an $anchor :: An array of strings is valid',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef to an $anchor in the same schema resource behaves like a normal $ref to an $anchor :: An array of strings is valid',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef with a non-matching $dynamicAnchor in the same schema resource behaves like a normal $ref to $anchor :: Any array is valid',
    REASON.dynScope,
  ],
  [
    "draft2020-12/dynamicRef.json :: A $dynamicRef with intermediate scopes that don't include a matching $dynamicAnchor does not affect dynamic scope resolution :: An array of strings is valid",
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef without a matching $dynamicAnchor in the same schema resource behaves like a normal $ref to $anchor :: Any array is valid',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: A $dynamicRef without anchor in fragment behaves identical to $ref :: An array of numbers is valid',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: An $anchor with the same name as a $dynamicAnchor is not used for dynamic scope resolution :: Any array is valid',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: after leaving a dynamic scope, it is not used by a $dynamicRef :: /then/$defs/thingy is the final stop for the $dynamicRef',
    REASON.dynHash,
  ],
  [
    'draft2020-12/dynamicRef.json :: after leaving a dynamic scope, it is not used by a $dynamicRef :: first_scope is not in dynamic scope for the $dynamicRef',
    REASON.dynHash,
  ],
  [
    'draft2020-12/dynamicRef.json :: after leaving a dynamic scope, it is not used by a $dynamicRef :: string matches /$defs/thingy, but the $dynamicRef does not stop here',
    REASON.dynHash,
  ],
  [
    'draft2020-12/dynamicRef.json :: multiple dynamic paths to the $dynamicRef keyword :: number list with string values',
    REASON.dynScope,
  ],
  [
    'draft2020-12/dynamicRef.json :: multiple dynamic paths to the $dynamicRef keyword :: string list with number values',
    REASON.dynScope,
  ],
  [
    'draft2020-12/format.json :: date format :: invalid date string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: date-time format :: invalid date-time string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: duration format :: invalid duration string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: email format :: invalid email string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: hostname format :: invalid hostname string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: ipv4 format :: invalid ipv4 string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: ipv6 format :: invalid ipv6 string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: iri-reference format :: invalid iri-reference string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: json-pointer format :: invalid json-pointer string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: regex format :: invalid regex string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: relative-json-pointer format :: invalid relative-json-pointer string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: time format :: invalid time string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: uri format :: invalid uri string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: uri-reference format :: invalid uri-reference string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: uri-template format :: invalid uri-template string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/format.json :: uuid format :: invalid uuid string is only an annotation by default',
    REASON.formatAssert,
  ],
  [
    'draft2020-12/optional/format/date-time.json :: validation of date-time strings :: a numeric offset without minutes is invalid',
    REASON.dtOffset,
  ],
  [
    'draft2020-12/optional/format/date-time.json :: validation of date-time strings :: a second fraction of fifteen nines is valid',
    REASON.dtNines,
  ],
  [
    'draft2020-12/optional/format/date-time.json :: validation of date-time strings :: hour 24 is invalid even with a leap second',
    REASON.dtHour24,
  ],
  [
    'draft2020-12/optional/format/duration.json :: validation of duration strings :: hours and seconds cannot appear without minutes',
    REASON.duration,
  ],
  [
    'draft2020-12/optional/format/duration.json :: validation of duration strings :: years and days cannot appear without months',
    REASON.duration,
  ],
  [
    'draft2020-12/optional/format/ecmascript-regex.json :: \\a is not an ECMA 262 control escape :: when used as a pattern',
    REASON.regexAnnexB,
  ],
  [
    'draft2020-12/optional/format/email.json :: validation of e-mail addresses :: a quoted string with a @ in the local part is valid',
    REASON.email,
  ],
  [
    'draft2020-12/optional/format/email.json :: validation of e-mail addresses :: a quoted string with a double dot in the local part is valid',
    REASON.email,
  ],
  [
    'draft2020-12/optional/format/email.json :: validation of e-mail addresses :: a quoted string with a space in the local part is valid',
    REASON.email,
  ],
  [
    'draft2020-12/optional/format/email.json :: validation of e-mail addresses :: an IPv4-address-literal after the @ is valid',
    REASON.email,
  ],
  [
    'draft2020-12/optional/format/email.json :: validation of e-mail addresses :: an IPv6-address-literal after the @ is valid',
    REASON.email,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Arabic-Indic digits mixed with Extended Arabic-Indic digits',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with a Nonspacing Mark',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with a Spacing Combining Mark',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Begins with an Enclosing Mark',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Exceptions that are DISALLOWED, left-to-right chars',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Exceptions that are DISALLOWED, right-to-left chars',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Greek KERAIA not followed by Greek',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Greek KERAIA not followed by anything',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERESH not preceded by Hebrew',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERESH not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERSHAYIM not preceded by Hebrew',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: Hebrew GERSHAYIM not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: KATAKANA MIDDLE DOT with no Hiragana, Katakana, or Han',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: KATAKANA MIDDLE DOT with no other characters',
    REASON.hostALabel,
  ],
  [
    "draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with no following 'l'",
    REASON.hostALabel,
  ],
  [
    "draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with no preceding 'l'",
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with nothing following',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: MIDDLE DOT with nothing preceding',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: ZERO WIDTH JOINER not preceded by Virama',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: ZERO WIDTH JOINER not preceded by anything',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: contains "--" in the 3rd and 4th position',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: contains illegal char U+302E Hangul single dot tone mark',
    REASON.hostALabel,
  ],
  [
    'draft2020-12/optional/format/hostname.json :: validation of A-label (punycode) host names :: invalid Punycode',
    REASON.hostALabel,
  ],
  ['draft2020-12/optional/format/hostname.json :: validation of host names :: trailing dot', REASON.hostDot],
  [
    'draft2020-12/optional/format/idn-email.json :: validation of an internationalized e-mail addresses :: a fullwidth commercial at is not a local-part separator',
    REASON.idnEmail,
  ],
  [
    'draft2020-12/optional/format/idn-email.json :: validation of an internationalized e-mail addresses :: an invalid e-mail/idn e-mail address',
    REASON.idnEmail,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to a Bidi rule violation is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to a disallowed code point is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: A-label that decodes to only ASCII is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Arabic-Indic digits mixed with Extended Arabic-Indic digits',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with a Nonspacing Mark',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with a Spacing Combining Mark',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Begins with an Enclosing Mark',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Bidi domain name with a digit-first label is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Exceptions that are DISALLOWED, left-to-right chars',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Exceptions that are DISALLOWED, right-to-left chars',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Greek KERAIA not followed by Greek',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Greek KERAIA not followed by anything',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERESH not preceded by Hebrew',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERESH not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERSHAYIM not preceded by Hebrew',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: Hebrew GERSHAYIM not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: KATAKANA MIDDLE DOT with no Hiragana, Katakana, or Han',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: KATAKANA MIDDLE DOT with no other characters',
    REASON.idnHost,
  ],
  [
    "draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with no following 'l'",
    REASON.idnHost,
  ],
  [
    "draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with no preceding 'l'",
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with nothing following',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: MIDDLE DOT with nothing preceding',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label contains "--" in the 3rd and 4th position',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label ends with a dash',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label starts and ends with a dash',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: U-label starts with a dash',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: ZERO WIDTH JOINER not preceded by Virama',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: ZERO WIDTH JOINER not preceded by anything',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: a U-label whose A-label form is longer than 63 octets is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: a name longer than 253 characters is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: a single label of 64 characters is too long',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: contains illegal char U+302E Hangul single dot tone mark',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: empty label between two dots is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: empty string',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: illegal first char U+302E Hangul single dot tone mark',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: invalid Punycode',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: invalid label, correct Punycode',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: label starting with a digit before a right-to-left letter is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: left-to-right label containing a right-to-left letter is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: non-canonical Punycode that does not re-encode to itself is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: right-to-left label mixing both digit types is invalid',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of internationalized host names :: zero width non-joiner must pass at every occurrence',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading dot',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: leading ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single dot',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: single ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing dot',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing fullwidth full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing halfwidth ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/idn-hostname.json :: validation of separators in internationalized host names :: trailing ideographic full stop',
    REASON.idnHost,
  ],
  [
    'draft2020-12/optional/format/iri.json :: validation of IRIs :: an IPv6 address without enclosing brackets is invalid',
    REASON.iri,
  ],
  [
    'draft2020-12/optional/format/iri.json :: validation of IRIs :: an IPv6 host whose embedded IPv4 has a leading zero is invalid',
    REASON.iri,
  ],
  [
    'draft2020-12/optional/format/uri-reference.json :: validation of URI References :: a colon in the first segment of a relative-path reference',
    REASON.uriRef,
  ],
  [
    'draft2020-12/optional/format/uri-reference.json :: validation of URI References :: a double quote in a path',
    REASON.uriRef,
  ],
  [
    'draft2020-12/optional/format/uri-reference.json :: validation of URI References :: a leading zero in the IPv4 part of an IPv6 literal',
    REASON.uriRef,
  ],
  [
    'draft2020-12/optional/format/uri-reference.json :: validation of URI References :: a non-numeric port in a network-path reference',
    REASON.uriRef,
  ],
  [
    'draft2020-12/optional/format/uri-reference.json :: validation of URI References :: more than one at-sign in the authority',
    REASON.uriRef,
  ],
  [
    'draft2020-12/optional/format/uri-reference.json :: validation of URI References :: square brackets outside an authority',
    REASON.uriRef,
  ],
  [
    'draft2020-12/optional/format/uri-template.json :: format: uri-template :: a delete character in a literal is invalid',
    REASON.uriTplAccepts,
  ],
  [
    'draft2020-12/optional/format/uri-template.json :: format: uri-template :: a dotted variable name is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft2020-12/optional/format/uri-template.json :: format: uri-template :: an apostrophe in a literal is valid',
    REASON.uriTplRejects,
  ],
  [
    'draft2020-12/optional/format/uri.json :: validation of URIs :: leading zero in an embedded IPv4 address is invalid',
    REASON.uri,
  ],
  ['draft2020-12/optional/format/uri.json :: validation of URIs :: non-numeric port is invalid', REASON.uri],
  [
    'draft2020-12/optional/format/uri.json :: validation of URIs :: square brackets are not allowed in a path segment',
    REASON.uri,
  ],
  ['draft2020-12/optional/format/uuid.json :: uuid format :: URN prefixed UUID is invalid', REASON.uuidUrn],
  [
    'draft2020-12/properties.json :: properties whose names are Javascript object property names :: __proto__ not valid',
    REASON.proto,
  ],
  ['draft2020-12/ref.json :: URN ref with nested pointer ref :: a non-string is invalid', REASON.refOverflow],
  ['draft2020-12/ref.json :: URN ref with nested pointer ref :: a string is valid', REASON.refOverflow],
  ['draft2020-12/ref.json :: refs with relative uris and defs :: invalid on inner field', REASON.refOverflow],
  ['draft2020-12/ref.json :: refs with relative uris and defs :: invalid on outer field', REASON.refOverflow],
  ['draft2020-12/ref.json :: refs with relative uris and defs :: valid on both fields', REASON.refOverflow],
  [
    'draft2020-12/ref.json :: relative refs with absolute uris and defs :: invalid on inner field',
    REASON.refOverflow,
  ],
  [
    'draft2020-12/ref.json :: relative refs with absolute uris and defs :: invalid on outer field',
    REASON.refOverflow,
  ],
  [
    'draft2020-12/ref.json :: relative refs with absolute uris and defs :: valid on both fields',
    REASON.refOverflow,
  ],
  [
    "draft2020-12/unevaluatedItems.json :: unevaluatedItems and contains interact to control item dependency relationship :: only a's and c's are invalid",
    REASON.unevalContains,
  ],
  [
    "draft2020-12/unevaluatedItems.json :: unevaluatedItems and contains interact to control item dependency relationship :: only b's and c's are invalid",
    REASON.unevalContains,
  ],
  [
    "draft2020-12/unevaluatedItems.json :: unevaluatedItems and contains interact to control item dependency relationship :: only b's are invalid",
    REASON.unevalContains,
  ],
  [
    "draft2020-12/unevaluatedItems.json :: unevaluatedItems and contains interact to control item dependency relationship :: only c's are invalid",
    REASON.unevalContains,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems can see annotations from if without then and else :: valid in case if is evaluated',
    REASON.unevalIf,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems depends on adjacent contains :: contains passes, second item is not evaluated',
    REASON.unevalContains,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems depends on multiple nested contains :: 7 not evaluated, fails unevaluatedItems',
    REASON.unevalContains,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems with $dynamicRef :: with no unevaluated items',
    REASON.dynOverflow,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems with $dynamicRef :: with unevaluated items',
    REASON.dynOverflow,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems with minContains = 0 :: all items evaluated by contains',
    REASON.unevalContains,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems with nested items :: with invalid additional item',
    REASON.unevalNested,
  ],
  [
    'draft2020-12/unevaluatedItems.json :: unevaluatedItems with nested items :: with no additional items',
    REASON.unevalNested,
  ],
  [
    'draft2020-12/unevaluatedProperties.json :: unevaluatedProperties can see annotations from if without then and else :: valid in case if is evaluated',
    REASON.unevalIf,
  ],
  [
    'draft2020-12/unevaluatedProperties.json :: unevaluatedProperties with $dynamicRef :: with no unevaluated properties',
    REASON.dynOverflow,
  ],
  [
    'draft2020-12/unevaluatedProperties.json :: unevaluatedProperties with $dynamicRef :: with unevaluated properties',
    REASON.dynOverflow,
  ],
  [
    'draft2020-12/unevaluatedProperties.json :: unevaluatedProperties with if/then/else, then not defined :: when if is false and has unevaluated properties',
    REASON.unevalIf,
  ],
  [
    'draft2020-12/unevaluatedProperties.json :: unevaluatedProperties with if/then/else, then not defined :: when if is true and has no unevaluated properties',
    REASON.unevalIf,
  ],
  [
    'draft2020-12/vocabulary.json :: schema that uses custom metaschema with with no validation vocabulary :: no validation: invalid number, but it still validates',
    REASON.vocabulary,
  ],
]);

interface SuiteTest {
  description: string;
  data: unknown;
  valid: boolean;
}
interface SuiteCase {
  description: string;
  schema: Record<string, unknown> | boolean;
  tests: SuiteTest[];
}

const NAME_MAPS = new Set([
  'properties',
  'patternProperties',
  'definitions',
  '$defs',
  'dependentSchemas',
  'dependencies',
]);
const VALUE_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);
const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'];
const NO_BASE = 'https://json-schema-test-suite.invalid/root.json';

function resolveUri(ref: string, base: string): string {
  try {
    return new URL(ref, base).href;
  } catch {
    return ref;
  }
}

function documentOf(uri: string): string {
  const hash = uri.indexOf('#');
  return hash >= 0 ? uri.slice(0, hash) : uri;
}

/**
 * The documents a schema references but does not define itself (independently of the compiler):
 * reference keywords resolved against the base URIs their ids establish.
 */
function remoteDocuments(schema: unknown, draft: SuiteDraft): string[] {
  const defined = new Set<string>();
  const referenced: string[] = [];
  const walkSchema = (node: unknown, base: string, isRoot: boolean): void => {
    if (Array.isArray(node)) {
      for (const item of node) walkSchema(item, base, false);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    const id = record[draft.idKeyword];
    const idIgnored = draft.refOverridesSiblings && typeof record.$ref === 'string' && !isRoot;
    let here = base;
    if (typeof id === 'string' && !idIgnored) here = resolveUri(id, base);
    defined.add(documentOf(here));
    for (const keyword of REF_KEYWORDS) {
      const ref = record[keyword];
      if (typeof ref === 'string') referenced.push(resolveUri(ref, here));
    }
    for (const [key, value] of Object.entries(record)) {
      if (VALUE_KEYWORDS.has(key)) continue;
      if (NAME_MAPS.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
        for (const sub of Object.values(value)) walkSchema(sub, here, false);
      } else {
        walkSchema(value, here, false);
      }
    }
  };
  walkSchema(schema, NO_BASE, true);
  const remote = referenced.map(documentOf).filter((doc) => !defined.has(doc) && !draft.bundled.test(doc));
  return [...new Set(remote)];
}

function withDraft(schema: Record<string, unknown> | boolean, draft: SuiteDraft): Record<string, unknown> {
  if (typeof schema === 'boolean') return { $schema: draft.$schema, allOf: [schema] };
  return '$schema' in schema ? schema : { $schema: draft.$schema, ...schema };
}

function suiteFiles(draft: SuiteDraft): string[] {
  const dir = join(SUITE_DIR, 'tests', draft.dir);
  const required = readdirSync(dir).filter((file) => file.endsWith('.json'));
  const formats = readdirSync(join(dir, 'optional', 'format'))
    .filter((file) => file.endsWith('.json'))
    .map((file) => `optional/format/${file}`);
  return [...required, ...formats].sort();
}

interface FileOutcome {
  agreed: number;
  disagreements: string[];
  remoteRefusals: number;
  remoteProblems: string[];
}

function runFile(compiler: SchemaCompiler, draft: SuiteDraft, file: string): FileOutcome {
  const cases = JSON.parse(readFileSync(join(SUITE_DIR, 'tests', draft.dir, file), 'utf8')) as SuiteCase[];
  const outcome: FileOutcome = { agreed: 0, disagreements: [], remoteRefusals: 0, remoteProblems: [] };
  for (const suiteCase of cases) {
    const caseName = `${draft.dir}/${file} :: ${suiteCase.description}`;
    const schema = withDraft(suiteCase.schema, draft);
    const remote = remoteDocuments(schema, draft);
    if (remote.length > 0) {
      try {
        compiler.compile(schema);
        outcome.remoteProblems.push(`${caseName}: references ${remote.join(', ')} but compiled`);
      } catch (error) {
        const message = (error as Error).message;
        const ok =
          error instanceof ServiceError &&
          error.code === 'INVALID_SCHEMA' &&
          message.includes('remote references are not fetched') &&
          remote.some((doc) => message.includes(doc));
        if (ok) outcome.remoteRefusals++;
        else
          outcome.remoteProblems.push(
            `${caseName}: references ${remote.join(', ')}; refused with: ${message}`,
          );
      }
      continue;
    }
    let validate: ((data: unknown) => { valid: boolean; failed: boolean }) | undefined;
    try {
      const compiled = compiler.compile(schema);
      validate = (data) => {
        const errors = compiled.validate(data);
        return {
          valid: errors.length === 0,
          failed: errors.some((e) => e.message.startsWith(EVALUATION_FAILURE_PREFIX)),
        };
      };
    } catch {
      validate = undefined; // refused: every test of the case disagrees
    }
    for (const test of suiteCase.tests) {
      const result = validate?.(test.data);
      if (result && !result.failed && result.valid === test.valid) outcome.agreed++;
      else outcome.disagreements.push(`${caseName} :: ${test.description}`);
    }
  }
  return outcome;
}

const suitePresent = existsSync(join(SUITE_DIR, 'tests'));

describe('JSON-Schema-Test-Suite', () => {
  if (!suitePresent) {
    it('is present', () => {
      throw new Error(
        `JSON-Schema-Test-Suite not found at ${SUITE_DIR}: the suite data is vendored at libs/llm/test/fixtures/JSON-Schema-Test-Suite (see its SOURCE.md)`,
      );
    });
    return;
  }

  const compiler = new SchemaCompiler();
  const runFiles = new Set<string>();

  for (const draft of DRAFTS) {
    describe(draft.dir, () => {
      const totals = { agreed: 0, known: 0, remote: 0 };
      afterAll(() => {
        console.log(
          `[JSON-Schema-Test-Suite] ${draft.dir}: ${totals.agreed} tests agreed, ${totals.known} known limitations, ${totals.remote} remote refusals`,
        );
      });

      for (const file of suiteFiles(draft)) {
        const prefix = `${draft.dir}/${file} :: `;
        runFiles.add(`${draft.dir}/${file}`);
        it(file, () => {
          const outcome = runFile(compiler, draft, file);
          const unexpected = outcome.disagreements.filter((name) => !KNOWN_LIMITATIONS.has(name));
          const fixed = [...KNOWN_LIMITATIONS.keys()].filter(
            (name) => name.startsWith(prefix) && !outcome.disagreements.includes(name),
          );
          totals.agreed += outcome.agreed;
          totals.known += outcome.disagreements.length - unexpected.length;
          totals.remote += outcome.remoteRefusals;
          expect(outcome.remoteProblems, 'remote references must be refused with INVALID_SCHEMA').toEqual([]);
          expect(unexpected, 'disagreements with the suite not listed in KNOWN_LIMITATIONS').toEqual([]);
          expect(
            fixed,
            'KNOWN_LIMITATIONS that now agree with the suite: remove them (and from the docs)',
          ).toEqual([]);
        });
      }
    });
  }

  describe('known limitations list', () => {
    it('names only files that were run', () => {
      const orphans = [...KNOWN_LIMITATIONS.keys()].filter((name) => !runFiles.has(name.split(' :: ')[0]!));
      expect(orphans).toEqual([]);
    });

    it('is the list in docs/validator-limitations.md', () => {
      const documented = new Map<string, string>();
      for (const line of readFileSync(DOC_FILE, 'utf8').split('\n')) {
        // `- `name` — reason` (a name containing a backtick is fenced with ``).
        const match = /^- (`+) ?(.+?) ?\1 — (.+)$/.exec(line);
        if (match) documented.set(match[2]!, match[3]!);
      }
      expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(KNOWN_LIMITATIONS));
    });
  });
});
