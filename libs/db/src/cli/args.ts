import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Command lines of the admin CLIs (keys, migrate), declared once and used for parsing, checking
 * and `--help`. Pure: parseCommandLine and usage never print or exit; runCli does, for a script.
 * Adding an option is one entry in `options` (with its help) and its name in the commands that
 * take it.
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** What the value stands for in the usage (`T` in `--tenant T`); strings only. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  summary: string;
  /** Positional arguments, all required (`key-id` → `<key-id>`). */
  positionals?: string[];
  /** Options the command requires. */
  required?: string[];
  /** Options the command also takes. */
  options?: string[];
}

export interface CliSpec {
  /** How it is invoked (`npm run keys --`). */
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Subcommands, the first positional argument; without them the CLI takes options only. */
  commands?: Record<string, CommandSpec>;
}

export type Values = Record<string, string | boolean | undefined>;

export type ParsedCommandLine =
  | { kind: 'help'; text: string }
  | { kind: 'error'; message: string; usage: string }
  | { kind: 'run'; command: string | undefined; positionals: string[]; values: Values };

/** A mistake in how the command was called: reported on one line with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const HELP: OptionSpec = { type: 'boolean', description: 'show this help' };

/** The command line `argv` (without node and the script) against `spec`. */
export function parseCommandLine(spec: CliSpec, argv: readonly string[]): ParsedCommandLine {
  const declared: Record<string, OptionSpec> = { ...spec.options, help: HELP };
  const { tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      Object.entries(declared).map(([name, option]) => [
        name,
        { type: option.type, ...(name === 'help' ? { short: 'h' } : {}) },
      ]),
    ),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const values: Values = {};
  const positionals: string[] = [];
  const problems: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const option = declared[token.name];
    if (!option) problems.push(`unknown option ${token.rawName}`);
    else if (option.type === 'string' && token.value === undefined)
      problems.push(`${token.rawName} needs a value`);
    else if (option.type === 'boolean' && token.inlineValue) problems.push(`${token.rawName} takes no value`);
    else values[token.name] = option.type === 'string' ? token.value : true;
  }
  const commandName = spec.commands ? positionals[0] : undefined;
  const command = commandName !== undefined ? spec.commands?.[commandName] : undefined;
  if (values.help) return { kind: 'help', text: usage(spec, command ? commandName : undefined) };
  delete values.help;
  const error = (message: string, forCommand = command ? commandName : undefined) =>
    ({ kind: 'error', message, usage: usage(spec, forCommand) }) as const;
  if (problems.length > 0) return error(problems.join('; '));
  if (spec.commands) {
    if (commandName === undefined) return error('no command given', undefined);
    if (commandName === 'help') {
      const topic = positionals[1];
      return { kind: 'help', text: usage(spec, topic && spec.commands[topic] ? topic : undefined) };
    }
    if (!command) return error(`unknown command '${commandName}'`, undefined);
  }
  const takes = command ? new Set([...(command.required ?? []), ...(command.options ?? [])]) : undefined;
  const refused = takes ? Object.keys(values).filter((name) => !takes.has(name)) : [];
  if (refused.length > 0)
    return error(`${commandName} does not take ${refused.map((name) => `--${name}`).join(', ')}`);
  const missing = (command?.required ?? []).filter((name) => values[name] === undefined);
  if (missing.length > 0)
    return error(`${commandName} needs ${missing.map((name) => `--${name}`).join(' and ')}`);
  const args = spec.commands ? positionals.slice(1) : positionals;
  const expected = command?.positionals ?? [];
  if (args.length < expected.length)
    return error(
      `${commandName} needs ${expected
        .slice(args.length)
        .map((name) => `<${name}>`)
        .join(' ')}`,
    );
  if (args.length > expected.length) return error(`unexpected argument '${args[expected.length]}'`);
  return { kind: 'run', command: commandName, positionals: args, values };
}

/** The help text: the whole CLI, or one command with its options. */
export function usage(spec: CliSpec, commandName?: string): string {
  const optionLine = (name: string) => {
    const option = spec.options[name];
    return option?.type === 'string' ? `--${name} ${option.value ?? 'VALUE'}` : `--${name}`;
  };
  const synopsis = (command: CommandSpec, brief = false) =>
    [
      ...(command.positionals ?? []).map((name) => `<${name}>`),
      ...(command.required ?? []).map(optionLine),
      ...(brief
        ? command.options?.length
          ? ['[options]']
          : []
        : (command.options ?? []).map((name) => `[${optionLine(name)}]`)),
    ].join(' ');
  const describe = (names: string[]) => {
    const rows = names.map((name) => [name === 'help' ? '-h, --help' : optionLine(name), name] as const);
    const width = Math.max(...rows.map(([left]) => left.length)) + 2;
    return rows.map(
      ([left, name]) =>
        `  ${left.padEnd(width)}${(name === 'help' ? HELP : spec.options[name]!).description}`,
    );
  };
  const command = commandName !== undefined ? spec.commands?.[commandName] : undefined;
  if (command && commandName) {
    const names = [...(command.required ?? []), ...(command.options ?? [])];
    return [
      `usage: ${spec.name} ${commandName} ${synopsis(command)}`.trimEnd(),
      '',
      command.summary,
      '',
      'options:',
      ...describe([...names, 'help']),
    ].join('\n');
  }
  const lines = [
    `usage: ${spec.name} ${spec.commands ? '<command> [options]' : '[options]'}`,
    '',
    spec.summary,
  ];
  if (spec.commands) {
    lines.push('', 'commands:');
    for (const [name, entry] of Object.entries(spec.commands)) {
      lines.push(`  ${`${name} ${synopsis(entry, true)}`.trimEnd()}`, `      ${entry.summary}`);
    }
    lines.push('', `${spec.name} <command> --help: the options of one command`);
  }
  lines.push('', 'options:', ...describe([...Object.keys(spec.options), 'help']));
  return lines.join('\n');
}

/**
 * Runs a CLI script: `--help` prints the usage (exit 0); a usage mistake, from the command line or
 * a UsageError thrown by `main`, prints one line and the usage on stderr (exit 2); any other error
 * prints its message on one line (exit 1). Never a stack trace.
 */
export async function runCli(
  spec: CliSpec,
  argv: readonly string[],
  main: (parsed: Extract<ParsedCommandLine, { kind: 'run' }>) => Promise<void>,
): Promise<void> {
  const parsed = parseCommandLine(spec, argv);
  if (parsed.kind === 'help') {
    console.log(parsed.text);
    return;
  }
  const program = spec.name.replace(/ --$/, '').replace(/^npm run /, '');
  if (parsed.kind === 'error') {
    console.error(`${program}: ${parsed.message}\n\n${parsed.usage}`);
    process.exitCode = 2;
    return;
  }
  try {
    await main(parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${program}: ${error.message}\n\n${usage(spec, parsed.command)}`);
      process.exitCode = 2;
    } else {
      console.error(`${program}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  }
}

/** Whether the module at `moduleUrl` is the script node was started with (not an import). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}
