// node --import tsx bench/profile-summary.ts FILE.cpuprofile... — top self-time functions, self time
// per module and our own functions by inclusive time, for each V8 CPU profile given.
// node --import tsx bench/profile-summary.ts --update bench/results/NAME.json — recomputes the
// summaries stored in a result file from its .cpuprofile files (kept under bench/.work/profiles).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summariseProfile } from './lib/cpuprofile.js';
import { REPO_ROOT } from './lib/env.js';

const args = process.argv.slice(2);
if (args[0] === '--update') {
  for (const resultFile of args.slice(1)) {
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as { profiles?: Record<string, unknown> };
    const walk = (value: unknown): unknown => {
      if (!value || typeof value !== 'object') return value;
      const record = value as Record<string, unknown>;
      if (typeof record.file === 'string' && record.file.endsWith('.cpuprofile')) {
        const path = join(REPO_ROOT, record.file);
        return existsSync(path) ? summariseProfile(path) : value;
      }
      return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, walk(inner)]));
    };
    result.profiles = walk(result.profiles) as Record<string, unknown>;
    writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`updated the profile summaries of ${resultFile}`);
  }
  process.exit(0);
}
const files = args;
if (files.length === 0) {
  console.error(
    'usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile... | --update RESULT.json...',
  );
  process.exit(2);
}
for (const file of files) {
  const summary = summariseProfile(file, Number(process.env.TOP ?? 20));
  console.log(
    `\n${summary.file}: ${summary.duration_ms} ms, ${summary.samples} samples, main thread busy ${summary.busy_pct}%`,
  );
  console.log('  self time (% of busy time):');
  for (const entry of summary.top_functions)
    console.log(`    ${String(entry.self_pct).padStart(5)}%  ${entry.name}  ${entry.where}`);
  console.log('  by module:');
  for (const entry of summary.by_module)
    console.log(`    ${String(entry.self_pct).padStart(5)}%  ${entry.module}`);
  console.log('  own functions, inclusive:');
  for (const entry of summary.top_own_inclusive)
    console.log(`    ${String(entry.total_pct).padStart(5)}%  ${entry.name}  ${entry.where}`);
}
