import { describe, expect, it } from 'vitest';
import { renderTemplate, templateParameters } from '../src/prompt-template.js';

describe('prompt templates', () => {
  it('fills every placeholder, repeated ones included', () => {
    expect(
      renderTemplate('Extract {{field}} from {{ doc }}; only {{field}}.', {
        field: 'the total',
        doc: 'INV-1',
      }),
    ).toBe('Extract the total from INV-1; only the total.');
    expect(templateParameters('{{a}} {{b}} {{a}}')).toEqual(['a', 'b']);
  });

  it('names every missing and every unknown parameter', () => {
    try {
      renderTemplate('Hello {{name}}, your order {{order_id}}', { name: 'Ada', colour: 'red' });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(
        (error as { details: { fields: { field: string }[] } }).details.fields.map((f) => f.field),
      ).toEqual(['template.parameters.order_id', 'template.parameters.colour']);
    }
  });

  it('does not re-expand placeholders that appear inside parameter values', () => {
    expect(renderTemplate('Say {{x}}', { x: '{{x}}' })).toBe('Say {{x}}');
  });
});
