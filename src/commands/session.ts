import { SocklabError } from '../errors.js';
import { closest } from '../parse/suggest.js';
import { wrap } from '../render/wrap.js';
import { GROUPS, defineCommand, type Command, type CommandTable, type Group } from './define.js';

/** `.help NAME`: usage, what it does, options, examples. */
export function commandHelp(cmd: Command): string {
  const lines = [`${cmd.args.usage}`, `  ${cmd.summary}`];
  // A help paragraph per line; an indented one (a list item) keeps its indent, continued two further in.
  if (cmd.help) lines.push('');
  for (const para of cmd.help?.split('\n') ?? []) {
    const indent = ' '.repeat(para.length - para.trimStart().length);
    wrap(para.trim(), 76 - indent.length).forEach((l, i) => lines.push(`  ${indent}${i > 0 && indent ? '  ' : ''}${l}`));
  }
  const options = Object.entries(cmd.args.options ?? {});
  if (options.length > 0) {
    lines.push('', '  options:');
    const width = Math.max(...options.map(([name, o]) => name.length + (o.value ? o.value.length + 1 : 0)));
    for (const [name, o] of options) lines.push(`    --${`${name}${o.value ? ` ${o.value}` : ''}`.padEnd(width)}  ${o.help}`);
  }
  lines.push('', '  examples:', ...cmd.examples.map((e) => `    ${e}`));
  return lines.join('\n');
}

/** `.help`: every command, grouped, one line each. */
export function commandList(commands: CommandTable): string {
  const lines: string[] = [];
  for (const group of Object.keys(GROUPS) as Group[]) {
    const cmds = [...commands.values()].filter((c) => c.group === group);
    if (cmds.length === 0) continue;
    lines.push(`${GROUPS[group]}:`);
    for (const c of cmds) lines.push(`  .${c.name.padEnd(9)} ${c.summary}`);
  }
  lines.push('', 'Other lines are JavaScript, with every id and name bound to its live net.Server / net.Socket (c1.remotePort).');
  lines.push('.help NAME shows usage, options and examples.');
  return lines.join('\n');
}


/** The command `.name` names, or a usage error with the nearest name. */
export function findCommand(commands: CommandTable, name: string): Command {
  const cmd = commands.get(name);
  if (cmd) return cmd;
  const guess = closest(name, commands.keys());
  const hint = guess ? `did you mean .${guess}? ` : '';
  throw new SocklabError('E_UNKNOWN_COMMAND', `unknown command .${name}: ${hint}.help lists the commands`);
}

export const help = defineCommand({
  name: 'help',
  group: 'session',
  summary: 'list the commands, or explain one',
  args: { usage: '.help [COMMAND]', positionals: ['COMMAND'], required: 0 },
  examples: ['.help', '.help send'],
  run(ctx, a) {
    const name = a.positionals[0]?.replace(/^\./, '');
    ctx.print(name === undefined ? commandList(ctx.commands) : commandHelp(findCommand(ctx.commands, name)));
  },
});

export const exit = defineCommand({
  name: 'exit',
  group: 'session',
  summary: 'close every endpoint gracefully and leave',
  args: { usage: '.exit', positionals: [] },
  help: 'Servers stop, sockets send FIN and get a second to finish; what is left is destroyed. Ctrl+D does the same.',
  examples: ['.exit'],
  blocks: true,
  run: (ctx) => ctx.exit(),
});
