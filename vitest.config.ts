import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; integration tests share one Kafka/Postgres/Redis stack, so they run
// one file at a time (each file still isolates itself with its own topic prefix and tenant).
// The two projects run as separate groups, unit first, then integration (sequence.groupOrder):
// CPU-heavy unit files (the JSON Schema test suite, never-over-constrain) never run alongside an
// integration file, whose timing bounds assume the CPU is theirs and the apps'.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{apps,libs}/*/test/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{apps,libs}/*/test/**/*.int.test.ts', 'e2e/**/*.int.test.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
