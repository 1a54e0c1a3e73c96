#!/usr/bin/env node
// The `sps` CLI: runs src/cli/main.ts through tsx (the repository runs TypeScript without a build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
