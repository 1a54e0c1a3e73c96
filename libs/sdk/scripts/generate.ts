import { writeFile } from 'node:fs/promises';
import { GENERATED_PATH, generatedApiSource } from './openapi-document.js';

/** Writes src/generated/api.ts from the API's OpenAPI document, built in memory (no running stack). */
await writeFile(GENERATED_PATH, await generatedApiSource());
console.log(`wrote ${GENERATED_PATH}`);
