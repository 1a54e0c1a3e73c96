// The language detector's thread (see language.ts). Plain JavaScript: a worker loads this file as it
// is, in every way the processor runs (tsx, vitest, the image), without a TypeScript loader.
import { parentPort } from 'node:worker_threads';
import { eld } from 'eld/medium';

function detect(text) {
  try {
    const result = eld.detect(text);
    return result.language && result.isReliable() ? result.language : 'und';
  } catch {
    return 'und'; // better unknown than a failed request
  }
}

// One message per event-loop turn of the processor: every detection it asked for, answered together.
parentPort.on('message', (batch) => {
  parentPort.postMessage({ detected: batch.map(({ id, text }) => ({ id, language: detect(text) })) });
});
parentPort.postMessage({ ready: true });
