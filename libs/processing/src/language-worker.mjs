// The language detector's thread (see language.ts). Plain JavaScript: a worker loads this file as it
// is, in every way the processor runs (tsx, vitest, the image), without a TypeScript loader.
import { parentPort } from 'node:worker_threads';
import { eld } from 'eld/medium';

parentPort.on('message', ({ id, text }) => {
  let language = 'und';
  try {
    const result = eld.detect(text);
    if (result.language && result.isReliable()) language = result.language;
  } catch {
    // 'und': better unknown than a failed request
  }
  parentPort.postMessage({ id, language });
});
parentPort.postMessage({ ready: true });
