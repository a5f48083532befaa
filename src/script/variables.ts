import { SocklabError } from '../errors.js';

/**
 * Script variables (SPEC section 13): `${NAME}`, `${NAME:-default}`, and
 * `\${` for a literal `${`. Values come from `--var NAME=VALUE` first, then
 * the environment. Substitution is one pass over a line's text before it is
 * parsed: a value is inserted as it is (it is never expanded again), and a
 * value holding a control character (a newline, CR, NUL, ESC…) or a line
 * separator is refused, so a value can neither start a new line nor smuggle
 * a second command or a terminal sequence into the script.
 */

/** The names a variable may have: a shell variable's. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where a variable's value comes from: `--var` values, then the environment. */
export interface Variables {
  /** `--var NAME=VALUE`, in force over the environment. */
  vars: Readonly<Record<string, string>>;
  /** The environment (process.env), read when `vars` does not have the name. */
  env: Readonly<Record<string, string | undefined>>;
}

/** What went wrong in one line: the variable and why. */
export interface VariableProblem {
  name: string;
  message: string;
}

/**
 * A value a variable may not hold: it would break the line it is inserted into.
 * Made at first use (a Unicode-property class costs ~1.4 M instructions when first evaluated).
 */
let unsafeValueClass: RegExp | undefined;
const unsafeValue = (): RegExp => (unsafeValueClass ??= /[\p{Cc}\u2028\u2029]/u);

/** `${NAME}`, `${NAME:-default}` or `\${`, in one left-to-right scan. */
const TOKEN = /\\\$\{|\$\{([^}:]*)(?::-([^}]*))?\}/g;

/**
 * Replace the variables of one script line. Pure. Returns the new text, or
 * the problems (an unset variable without a default, a bad name, an unsafe
 * value) and the text unchanged. A `${` that is not closed by `}` stays as it is.
 */
export function substituteLine(text: string, from: Variables): { text: string; problems: VariableProblem[] } {
  const problems: VariableProblem[] = [];
  const out = text.replace(TOKEN, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '\\${') return '${';
    const n = name ?? '';
    if (!VARIABLE_NAME.test(n)) {
      problems.push({ name: n, message: `bad variable \${${n}}: a name is letters, digits and _ (write \\\${ for a literal \${)` });
      return whole;
    }
    const value = Object.hasOwn(from.vars, n) ? from.vars[n] : from.env[n];
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      problems.push({ name: n, message: `variable ${n} is not set: give --var ${n}=VALUE, set it in the environment, or write \${${n}:-default}` });
      return whole;
    }
    if (unsafeValue().test(value)) {
      problems.push({ name: n, message: `variable ${n} holds a control character or line break: a value is inserted into one script line as it is` });
      return whole;
    }
    return value;
  });
  return problems.length > 0 ? { text, problems } : { text: out, problems };
}

/**
 * Read `--var NAME=VALUE` text. Throws `SocklabError` `E_USAGE` for a bad
 * name, a missing `=`, or a value with a control character.
 */
export function parseVarOption(text: string): [string, string] {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  if (eq < 0 || !VARIABLE_NAME.test(name)) {
    throw new SocklabError('E_USAGE', `--var takes NAME=VALUE with NAME letters, digits and _ (e.g. --var PORT=9000), not "${text.slice(0, 60)}"`);
  }
  const value = text.slice(eq + 1);
  if (unsafeValue().test(value)) throw new SocklabError('E_USAGE', `--var ${name}: the value holds a control character or line break; a value goes into one script line`);
  return [name, value];
}

/** The variables of a run: these `--var` values over the process environment. */
export function runVariables(vars: Readonly<Record<string, string>> = {}): Variables {
  return { vars, env: process.env };
}

/** The variables of each session's run, for a `.replay` typed in the REPL. */
const bySession = new WeakMap<object, Variables>();

/** Remember the run's variables for `session` (the CLI does, once). */
export function setSessionVariables(session: object, vars: Variables): void {
  bySession.set(session, vars);
}

/** The run's variables of `session`: what the CLI set, else the environment alone. */
export function sessionVariables(session: object): Variables {
  return bySession.get(session) ?? runVariables();
}
