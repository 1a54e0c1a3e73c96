import { eld } from 'eld/medium';

/**
 * ISO 639-1 code of the text's language (ELD, a maintained n-gram detector), or `und` when
 * the detector is not confident — better unknown than wrong.
 */
export function detectLanguage(text: string): string {
  const sample = text.slice(0, 2_000);
  if (sample.replace(/[\s\d\p{P}\p{S}]/gu, '').length < 3) return 'und';
  const result = eld.detect(sample);
  return result.language && result.isReliable() ? result.language : 'und';
}
