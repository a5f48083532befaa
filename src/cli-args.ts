import { SocklabError } from './errors.js';
import { parseVarOption } from './script/variables.js';
import { parseServeAddress } from './commands/serve.js';

/** The command line, once read. */
export interface CliArgs {
  file?: string;
  /** `-e LINE`, in order. */
  lines: string[];
  exit: boolean;
  json: boolean;
  /** undefined = decide from the terminal and NO_COLOR/FORCE_COLOR. */
  color?: boolean;
  time: boolean;
  allowJs: boolean;
  allowRead: boolean;
  allowWrite: boolean;
  keepGoing: boolean;
  /** `--transcript FILE.md`: the session as Markdown, written when it ends. */
  transcript?: string;
  /** `--serve [HOST:]PORT`: the classroom page, as if `.serve` was typed first. */
  serve?: string;
  /** `--var NAME=VALUE`, the last one of a name wins. */
  vars: Record<string, string>;
  help: boolean;
  version: boolean;
}

export const CLI_HELP = `socklab — a TCP playground you drive from a REPL

Usage:
  socklab                      interactive REPL (.help inside lists the commands)
  socklab FILE.lab             run a script headless; the exit code says if it passed
  socklab run FILE.lab         the same
  socklab < FILE.lab           stdin that is not a terminal runs as a script
  socklab -e LINE [-e LINE]    run these lines, then stay interactive (--exit: leave);
                               a line without a leading dot is JavaScript, run as
                               typed at the prompt (yours: no --allow-js needed)
  socklab test [opts] PATH...  run .lab files and folders as a test suite
                               (socklab test --help: --jobs, --reporter tap|junit…)

Options:
  --json           events as NDJSON on stdout, one object per line
  --no-color       no ANSI colours (also NO_COLOR=1; FORCE_COLOR=1 forces them)
  --no-time        no timestamps on event lines
  --allow-js       let a script file run its JavaScript lines
  --allow-read     let a script's file: payloads and .replay read outside its folder
  --allow-write    let a script write files (.record)
  --keep-going     report every failing line instead of stopping at the first
  --var NAME=VALUE \${NAME} in a script's command lines (repeatable); else the
                   environment; \${NAME:-default} for a default, \\\${ is a literal \${
  --transcript FILE.md  write the session as Markdown when it ends: commands,
                   events and a Mermaid sequence diagram (.transcript in the REPL)
  --serve [HOST:]PORT  a read-only web page of the session for a class (.serve
                   in the REPL); 127.0.0.1 unless a host is given, any other
                   address prints a link with a token. Only this flag lets a
                   script's session be watched from the network
  --exit           with -e: leave after the lines instead of opening the REPL
  -h, --help       this text
  -v, --version    the version

Exit codes: 0 every line passed, 1 a line or expectation failed, 2 usage error
(bad option, unreadable script, a script refused before it ran: an unset
variable, a JavaScript
line without --allow-js, a path or .record its permissions do not allow, a
script over 16 MiB or with a line over 1 MiB, a device or binary file).
A script never holds more permission than these flags give it; without
--allow-read its paths resolve against its own folder and may not leave it.
SIGINT, SIGTERM and SIGHUP end a run as .exit does; output that cannot be
written (a closed pipe, a full disk) ends it with one line on stderr, exit 1.

Examples:
  socklab -e '.listen 9000 --reply echo'
  socklab examples/echo-server.lab
  socklab --json -e '.listen 0' -e '.connect s1' -e '.send c1 hi' --exit
`;

const FLAGS: Record<string, (a: CliArgs) => void> = {
  '--json': (a) => (a.json = true),
  '--no-color': (a) => (a.color = false),
  '--color': (a) => (a.color = true),
  '--no-time': (a) => (a.time = false),
  '--allow-js': (a) => (a.allowJs = true),
  '--allow-read': (a) => (a.allowRead = true),
  '--allow-write': (a) => (a.allowWrite = true),
  '--keep-going': (a) => (a.keepGoing = true),
  '--exit': (a) => (a.exit = true),
  '--help': (a) => (a.help = true),
  '-h': (a) => (a.help = true),
  '--version': (a) => (a.version = true),
  '-v': (a) => (a.version = true),
};

/** Read argv (without node and the script). Throws E_USAGE with what was wrong. */
export function parseCliArgs(argv: string[]): CliArgs {
  const args: CliArgs = { lines: [], exit: false, json: false, time: true, allowJs: false, allowRead: false, allowWrite: false, keepGoing: false, vars: {}, help: false, version: false };
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const flag = FLAGS[arg];
    if (flag) flag(args);
    else if (arg === '-e' || arg === '--eval') {
      const line = argv[++i];
      if (line === undefined) throw new SocklabError('E_USAGE', `${arg} needs a line, e.g. -e '.listen 9000'`);
      args.lines.push(line);
    } else if (arg === '--transcript' || arg.startsWith('--transcript=')) {
      const path = arg === '--transcript' ? argv[++i] : arg.slice('--transcript='.length);
      if (path === undefined || path === '') throw new SocklabError('E_USAGE', '--transcript needs a file, e.g. --transcript session.md');
      args.transcript = path;
    } else if (arg === '--serve' || arg.startsWith('--serve=')) {
      const address = arg === '--serve' ? argv[++i] : arg.slice('--serve='.length);
      if (address === undefined || address === '') throw new SocklabError('E_USAGE', '--serve needs [HOST:]PORT, e.g. --serve 8080 or --serve 0.0.0.0:8080');
      parseServeAddress(address);
      args.serve = address;
    } else if (arg === '--var' || arg.startsWith('--var=')) {
      const text = arg === '--var' ? argv[++i] : arg.slice('--var='.length);
      if (text === undefined) throw new SocklabError('E_USAGE', '--var needs NAME=VALUE, e.g. --var PORT=9000');
      const [name, value] = parseVarOption(text);
      args.vars[name] = value;
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new SocklabError('E_USAGE', `unknown option ${arg} (socklab --help lists them)`);
    } else files.push(arg);
  }
  if (files[0] === 'run') files.shift();
  if (files.length > 1) throw new SocklabError('E_USAGE', `one script at a time, got ${files.length}: ${files.join(' ')}`);
  if (files[0] !== undefined && args.lines.length > 0) throw new SocklabError('E_USAGE', 'give a script or -e lines, not both');
  if (files[0] !== undefined && files[0] !== '-') args.file = files[0];
  if (files[0] === undefined && argv.includes('run')) throw new SocklabError('E_USAGE', 'run needs a script: socklab run FILE.lab');
  return args;
}
