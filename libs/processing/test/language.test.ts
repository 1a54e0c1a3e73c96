import { describe, expect, it } from 'vitest';
import { loadLanguageDetector } from '../src/language.js';

const languages = await loadLanguageDetector();
const detectLanguage = (text: string) => languages.detect(text);

describe('language detection', () => {
  it.each([
    ['en', 'Extract the key details from this invoice and tell me the total amount due.'],
    ['fr', 'Extrayez les informations importantes de cette facture et donnez-moi le montant total.'],
    ['es', 'Extrae los detalles clave de esta factura y dime el importe total a pagar.'],
    ['de', 'Extrahiere die wichtigsten Angaben aus dieser Rechnung und nenne mir den Gesamtbetrag.'],
  ])('detects %s', (language, text) => {
    expect(detectLanguage(text)).toBe(language);
  });

  it('answers und when there is nothing to judge', () => {
    expect(detectLanguage('12345 !!!')).toBe('und');
    expect(detectLanguage('')).toBe('und');
  });
});
