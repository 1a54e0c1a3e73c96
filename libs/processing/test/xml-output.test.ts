import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { fromXml, toXml } from '../src/xml-output.js';

const samples: unknown[] = [
  {
    invoice_number: 'INV-1',
    amount: 1250.5,
    paid: false,
    notes: null,
    lines: [
      { sku: 'a', qty: 2 },
      { sku: 'b', qty: 1 },
    ],
  },
  {
    'weird key': 'x',
    '1starts-with-digit': 1,
    xmlish: 'reserved prefix',
    property: 'collides',
    nested: { deeper: { deepest: [1, [2, 3], []] } },
  },
  {
    text: 'escapes <tags> & "quotes" \' and ]]> too',
    unicode: 'héllo 世界 🚀',
    empty: '',
    spaces: '  padded  ',
  },
  [1, 'two', { three: 3 }],
  'just a string',
  42,
  {},
];

describe('XML output', () => {
  it.each(samples.map((sample) => [JSON.stringify(sample).slice(0, 40), sample]))(
    'is well-formed and round-trips: %s',
    (_label, sample) => {
      const xml = toXml(sample);
      expect(XMLValidator.validate(xml)).toBe(true);
      expect(fromXml(xml)).toEqual(sample);
    },
  );

  it('reads naturally for ordinary objects', () => {
    expect(toXml({ intent: 'extract', confidence: 0.9 })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><response type="object"><intent type="string">extract</intent><confidence type="number">0.9</confidence></response>',
    );
  });
});
