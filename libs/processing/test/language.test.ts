import { afterAll, describe, expect, it } from 'vitest';
import { LanguageDetector, loadLanguageDetector } from '../src/language.js';

const languages = await loadLanguageDetector();
afterAll(() => languages.close());

const SAMPLES: [string, string][] = [
  ['en', 'Extract the key details from this invoice and tell me the total amount due.'],
  ['fr', 'Extrayez les informations importantes de cette facture et donnez-moi le montant total.'],
  ['es', 'Extrae los detalles clave de esta factura y dime el importe total a pagar.'],
  ['de', 'Extrahiere die wichtigsten Angaben aus dieser Rechnung und nenne mir den Gesamtbetrag.'],
];

describe('language detection', () => {
  it.each(SAMPLES)('detects %s', async (language, text) => {
    expect(await languages.detect(text)).toBe(language);
  });

  it('answers und when there is nothing to judge', async () => {
    const before = languages.messagesPosted;
    expect(await languages.detect('12345 !!!')).toBe('und');
    expect(await languages.detect('')).toBe('und');
    // Two letters in a long run of digits, punctuation and symbols: still nothing to judge.
    expect(await languages.detect(`${'1, 2; 3! €'.repeat(150)} x ${'…'.repeat(100)} é`)).toBe('und');
    expect(languages.messagesPosted - before).toBe(0); // answered here, without asking the worker
  });

  it('answers each of many detections in flight at once with its own text', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => SAMPLES[i % SAMPLES.length]!);
    const detected = await Promise.all(texts.map(([, text]) => languages.detect(text)));
    expect(detected).toEqual(texts.map(([language]) => language));
  });

  it('sends the detections of one event-loop turn to the worker as one message', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => SAMPLES[i % SAMPLES.length]!);
    const before = languages.messagesPosted;
    const detected = await Promise.all(texts.map(([, text]) => languages.detect(text)));
    expect(detected).toEqual(texts.map(([language]) => language));
    expect(languages.messagesPosted - before).toBe(1);
    // Turns apart, messages apart: each waits for the answer before the next is asked.
    for (const [language, text] of SAMPLES) expect(await languages.detect(text)).toBe(language);
    expect(languages.messagesPosted - before).toBe(1 + SAMPLES.length);
  });

  it('answers und, without waiting, once closed', async () => {
    const detector = await loadLanguageDetector();
    const inFlight = detector.detect(SAMPLES[1]![1]);
    await detector.close();
    expect(await inFlight).toMatch(/^(fr|und)$/);
    const started = performance.now();
    expect(await detector.detect(SAMPLES[1]![1])).toBe('und');
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('answers und at once when the worker dies, and a new one is started in the background', async () => {
    const detector = new LanguageDetector({ restartAfterMs: 100 });
    await detector.start();
    // The worker is killed from outside (as an out-of-memory kill of the thread would end it).
    const worker = (detector as unknown as { worker: { terminate(): Promise<number> } }).worker;
    const inFlight = detector.detect(SAMPLES[2]![1]);
    await worker.terminate();
    // In flight when the worker died: answered (by the worker if it got there first), never left hanging.
    expect(await inFlight).toMatch(/^(es|und)$/);
    // Until the new worker has loaded its tables (most of a second on two cores), every detection
    // answers `und` without waiting for it: none may hold a request for a worker's start.
    let answers = 0;
    let slowest = 0;
    let language = 'und';
    const deadline = performance.now() + 10_000;
    while (language === 'und' && performance.now() < deadline) {
      const started = performance.now();
      language = await detector.detect(SAMPLES[2]![1]);
      slowest = Math.max(slowest, performance.now() - started);
      answers++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(language).toBe('es'); // the new worker, started by itself after the pause
    expect(answers).toBeGreaterThan(3); // some were asked during the pause and the start
    expect(slowest).toBeLessThan(50);
    await detector.close();
  });
});
