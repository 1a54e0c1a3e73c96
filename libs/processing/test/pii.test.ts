import { describe, expect, it } from 'vitest';
import { redactPii, restorePii } from '../src/pii.js';

describe('PII redaction', () => {
  const prompt =
    'Refund ada.lovelace@example.com, card 4111 1111 1111 1111, SSN 123-45-6789, ' +
    'from 192.168.10.20 or 2001:db8::1, call +1 415-555-2671. Order 1234-5678 ships 2025-01-15.';

  it('replaces each kind with a numbered placeholder and counts them', () => {
    const { text, counts } = redactPii(prompt);
    expect(text).toBe(
      'Refund [EMAIL_1], card [CARD_1], SSN [SSN_1], from [IP_1] or [IP_2], call [PHONE_1]. Order 1234-5678 ships 2025-01-15.',
    );
    expect(counts).toEqual({ EMAIL: 1, CARD: 1, SSN: 1, IP: 2, PHONE: 1 });
  });

  it('leaves numbers that fail the Luhn check or are not addresses', () => {
    expect(redactPii('card 4111 1111 1111 1112 and version 1.2.3.4.5 and 999.1.1.1').counts).toEqual({});
  });

  it('restores the originals inside the answer', () => {
    const { originals } = redactPii(prompt);
    const answer = { customer: '[EMAIL_1]', payment: { card: '[CARD_1]' }, notes: ['call [PHONE_1]'] };
    expect(restorePii(answer, originals)).toEqual({
      customer: 'ada.lovelace@example.com',
      payment: { card: '4111 1111 1111 1111' },
      notes: ['call +1 415-555-2671'],
    });
  });
});
