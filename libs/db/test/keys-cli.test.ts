import { describe, expect, it } from 'vitest';
import { parseCommandLine, usage, UsageError } from '../src/cli/args.js';
import { keyControlsFrom, keysCli, positiveInteger } from '../src/cli/keys.js';
import { migrateCli } from '../src/cli/migrate.js';

const parse = (line: string) => parseCommandLine(keysCli, line.split(' ').filter(Boolean));

describe('admin CLI command lines (npm run keys / npm run migrate)', () => {
  it('answers --help (and -h, and help <command>) with the usage, for the CLI or one command', () => {
    for (const line of ['--help', '-h', 'help', '--bogus --help']) {
      const parsed = parse(line);
      expect(parsed.kind, line).toBe('help');
      if (parsed.kind === 'help') expect(parsed.text).toBe(usage(keysCli));
    }
    expect(usage(keysCli)).toMatch(/^usage: npm run keys -- <command> \[options\]/);
    for (const command of ['create', 'list', 'update', 'revoke']) {
      expect(usage(keysCli)).toContain(`\n  ${command}`);
      for (const line of [`${command} --help`, `help ${command}`]) {
        const parsed = parse(line);
        expect(parsed.kind === 'help' && parsed.text, line).toBe(usage(keysCli, command));
      }
    }
    expect(usage(keysCli, 'create')).toMatch(
      /^usage: npm run keys -- create --tenant T --name N \[--rate-limit R\]/,
    );
    expect(usage(keysCli, 'create')).toMatch(/--daily-cost-usd X +daily cost budget in USD/);
    expect(usage(keysCli, 'revoke')).toMatch(/^usage: npm run keys -- revoke <key-id>\n/);
    expect(parseCommandLine(migrateCli, ['--help'])).toEqual({ kind: 'help', text: usage(migrateCli) });
  });

  it('parses each command with its arguments', () => {
    expect(parse('create --tenant acme --name ci --rate-limit 10 --json')).toEqual({
      kind: 'run',
      command: 'create',
      positionals: [],
      values: { tenant: 'acme', name: 'ci', 'rate-limit': '10', json: true },
    });
    expect(parse('list')).toEqual({ kind: 'run', command: 'list', positionals: [], values: {} });
    expect(parse('update k1 --allow-models a,b --daily-tokens none')).toMatchObject({
      command: 'update',
      positionals: ['k1'],
      values: { 'allow-models': 'a,b', 'daily-tokens': 'none' },
    });
    expect(parseCommandLine(keysCli, ['create', '--tenant=acme', '--name', 'x y'])).toMatchObject({
      values: { tenant: 'acme', name: 'x y' },
    });
    expect(parseCommandLine(migrateCli, [])).toEqual({
      kind: 'run',
      command: undefined,
      positionals: [],
      values: {},
    });
  });

  it('refuses mistakes with one line, and the usage of what was asked', () => {
    const cases: [string, string, string | undefined][] = [
      ['--bogus', 'unknown option --bogus', undefined],
      ['create --tenant a --name b --bogus', 'unknown option --bogus', 'create'],
      ['', 'no command given', undefined],
      ['frob', "unknown command 'frob'", undefined],
      ['create --tenant a', 'create needs --name', 'create'],
      ['create --name', '--name needs a value', 'create'],
      ['create --tenant a --name b --json=yes', '--json takes no value', 'create'],
      ['list --name x', 'list does not take --name', 'list'],
      ['revoke', 'revoke needs <key-id>', 'revoke'],
      ['revoke k1 k2', "unexpected argument 'k2'", 'revoke'],
    ];
    for (const [line, message, command] of cases) {
      expect(parse(line), line).toEqual({ kind: 'error', message, usage: usage(keysCli, command) });
      expect(message).not.toContain('\n');
    }
    expect(parseCommandLine(migrateCli, ['--force'])).toMatchObject({
      kind: 'error',
      message: 'unknown option --force',
    });
    expect(parseCommandLine(migrateCli, ['now'])).toMatchObject({ message: "unexpected argument 'now'" });
  });

  it('checks option values before anything is opened (usage errors, not crashes)', () => {
    expect(positiveInteger({ 'rate-limit': '1000' }, 'rate-limit')).toBe(1000);
    expect(positiveInteger({}, 'rate-limit')).toBeUndefined();
    for (const bad of ['0', '-1', '1.5', 'ten', '', '2147483648'])
      expect(() => positiveInteger({ 'rate-limit': bad }, 'rate-limit'), bad).toThrow(UsageError);
    expect(
      keyControlsFrom({ 'allow-models': 'a, b', 'daily-tokens': 'none', 'daily-cost-usd': '2.5' }),
    ).toEqual({
      allowedModels: ['a', 'b'],
      dailyTokenBudget: null,
      dailyCostBudgetUsd: 2.5,
    });
    expect(() => keyControlsFrom({ 'daily-tokens': '1.5' })).toThrow(UsageError);
    expect(() => keyControlsFrom({ 'allow-providers': ' , ' })).toThrow(UsageError);
  });
});
