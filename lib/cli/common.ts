/**
 * Shared command-line plumbing for every `deno task` entry point (docs/cli.md#runcommand):
 *
 * - options parsed with `node:util` `parseArgs` (strict: unknown options are usage errors);
 * - every command gets `--json` (one JSON object on stdout, nothing else there), `--debug`
 *   (stack traces), `--quiet` (no progress) and `-h/--help`;
 * - progress and warnings go to stderr;
 * - an `InputError` or `UsageError` (bad file, bad value, bad layout) prints ONE line
 *   `NAME: error: MESSAGE` on stderr and exits with code 2; any other error is a bug: one
 *   line `NAME: internal error: MESSAGE` and exit code 1. Stack traces only with --debug.
 *
 * Usage:
 * ```ts
 * const spec: CommandSpec = { name: "metrics", usage: "A B [--crop N]", summary: "...",
 *   positionals: { min: 2, max: 2 }, options: { crop: { type: "string", description: "..." } } };
 * if (import.meta.main) runCommand(spec, async (ctx) => { ...; return { psnr, ssim }; });
 * ```
 * The object `main` returns is printed with --json (Infinity/NaN become null); without
 * --json, `main` prints its own human-readable result (to stdout) via `ctx.out`.
 */
import { parseArgs } from "node:util";
import { InputError, isInputError } from "../data/errors.ts";
import { BACKEND_CHOICES, type BackendChoice } from "../backends/choices.ts";

export { InputError };

/** A malformed command line (unknown option, missing argument, bad value). Exit code 2. */
export class UsageError extends InputError {
  override name = "InputError";
  readonly usage = true;
}

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  default?: string | boolean;
  multiple?: boolean;
  /** Shown in --help, e.g. "N" or "PATH". */
  valueName?: string;
  description: string;
}

export interface CommandSpec {
  /** Task name, e.g. "metrics" (used in messages: "metrics: error: ..."). */
  name: string;
  /** One line: what the command does. */
  summary: string;
  /** Positional part of the usage line, e.g. "A B". */
  usage: string;
  positionals?: { min?: number; max?: number };
  options?: Record<string, OptionSpec>;
  /** Extra --help text (examples, conventions). */
  details?: string;
}

export interface Context {
  values: Record<string, string | boolean | string[] | undefined>;
  /** The options given on the command line (the rest of `values` are defaults or filled). */
  given: ReadonlySet<string>;
  /**
   * Sets an option the command line did not give (from a recipe file, say); its errors then
   * name `where` (e.g. "recipes/a.json: valImages") instead of the option.
   */
  fill(name: string, value: string, where: string): void;
  positionals: string[];
  json: boolean;
  debug: boolean;
  quiet: boolean;
  /** Progress line on stderr (suppressed by --quiet). */
  progress(msg: string): void;
  /** Warning line on stderr (always shown). */
  warn(msg: string): void;
  /** Human-readable result on stdout (suppressed with --json, which prints the JSON object). */
  out(msg: string): void;
  /** The string value of an option, or undefined. */
  str(name: string): string | undefined;
  /** A boolean flag. */
  flag(name: string): boolean;
  /** An integer option within [min, max]; `fallback` when absent. */
  int(name: string, fallback: number, min?: number, max?: number): number;
  int(name: string, fallback: undefined, min?: number, max?: number): number | undefined;
  /** A finite number option within [min, max]. */
  num(name: string, fallback: number, min?: number, max?: number): number;
  num(name: string, fallback: undefined, min?: number, max?: number): number | undefined;
  /** Exit code after a successful run (default 0); e.g. 1 when a check found differences. */
  exitCode?: number;
  /** A string option that must be one of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T;
}

const COMMON: Record<string, OptionSpec> = {
  json: {
    type: "boolean",
    description: "print one JSON object on stdout (progress stays on stderr)",
  },
  debug: { type: "boolean", description: "show stack traces on errors" },
  quiet: { type: "boolean", short: "q", description: "no progress output" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

/** The one `--backend` option of every task that runs a model; read it with `backendArg`. */
export const BACKEND_OPTION: OptionSpec = {
  type: "string",
  valueName: "NAME",
  default: "auto",
  description: `${BACKEND_CHOICES.join(", ")} (native: OpenBLAS, deno task setup:native)`,
};

/** The `--backend` value (BACKEND_OPTION), checked: a bad one names the valid choices. */
export function backendArg(ctx: Context): BackendChoice {
  return ctx.choice("backend", BACKEND_CHOICES, "auto");
}

/** A value that reads as a negative number ("-5", "-1e-4", "-.5"), not an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--name -5` as `--name=-5` (and `-x -5` as `--long=-5`) for string options, so a negative
 * number reaches the option's own range check instead of parseArgs calling it ambiguous.
 */
function joinNegativeValues(args: string[], options: Record<string, OptionSpec>): string[] {
  const longOf = new Map<string, string>();
  for (const [k, o] of Object.entries(options)) if (o.short) longOf.set(o.short, k);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i], next = args[i + 1];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = a.startsWith("--") ? a.slice(2) : /^-[^-]$/.test(a) ? longOf.get(a[1]) : undefined;
    if (
      name !== undefined && !name.includes("=") && options[name]?.type === "string" &&
      next !== undefined && NEGATIVE_NUMBER.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** The --help text of a command. */
export function helpText(spec: CommandSpec): string {
  const opts = { ...(spec.options ?? {}), ...COMMON };
  const rows = Object.entries(opts).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${k}${
      o.type === "string" ? ` ${o.valueName ?? "VALUE"}` : ""
    }`;
    const def = o.default !== undefined && o.default !== false ? ` (default ${o.default})` : "";
    return `  ${flag.padEnd(28)} ${o.description}${def}`;
  });
  return [
    `usage: deno task ${spec.name} ${spec.usage} [options]`,
    "",
    spec.summary,
    "",
    "options:",
    ...rows,
    ...(spec.details ? ["", spec.details.trimEnd()] : []),
    "",
    "exit codes: 0 ok, 2 bad input (one line on stderr names the file or value), 1 internal error",
  ].join("\n");
}

/** JSON.stringify with non-finite numbers as null and typed arrays as plain arrays. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === "number" && !Number.isFinite(v)) return null;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as Float32Array);
    return v;
  });
}

/** Parse argv against the spec (throws UsageError). Exported for tests and for reuse. */
export function parseCommandLine(spec: CommandSpec, args: string[]): Context {
  const options = { ...(spec.options ?? {}), ...COMMON };
  const parseOpts: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [k, o] of Object.entries(options)) {
    parseOpts[k] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, options),
      options: parseOpts,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    if (!String((e as { code?: string }).code ?? "").startsWith("ERR_PARSE_ARGS")) throw e;
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${msg} (see --help)`);
  }
  const values = parsed.values as Context["values"];
  const given = new Set(Object.keys(values).filter((k) => values[k] !== undefined));
  const where: Record<string, string> = {};
  for (const [k, o] of Object.entries(options)) {
    if (values[k] === undefined && o.default !== undefined) values[k] = o.default;
  }
  const positionals = parsed.positionals;
  const json = !!values.json, debug = !!values.debug, quiet = !!values.quiet;
  const str = (name: string) => {
    const v = values[name];
    return typeof v === "string" ? v : undefined;
  };
  const label = (name: string) => where[name] ?? `--${name}`;
  const range = (name: string, v: number, min: number, max: number) => {
    if (v < min || v > max) {
      const want = max === Infinity ? `at least ${min}` : `in ${min}..${max}`;
      throw new UsageError(`${label(name)} must be ${want}, got ${v}`);
    }
    return v;
  };
  const ctx: Context = {
    values,
    given,
    fill: (name, value, from) => {
      if (given.has(name)) return;
      values[name] = value;
      where[name] = from;
    },
    positionals,
    json,
    debug,
    quiet,
    progress: (m) => {
      if (!quiet) console.error(m);
    },
    warn: (m) => console.error(`${spec.name}: warning: ${m}`),
    out: (m) => {
      if (!json) console.log(m);
    },
    str,
    flag: (name) => values[name] === true,
    // deno-lint-ignore no-explicit-any
    int: ((name: string, fallback: number | undefined, min = -Infinity, max = Infinity): any => {
      const s = str(name);
      if (s === undefined) return fallback;
      if (!/^[+-]?\d+$/.test(s.trim())) {
        throw new UsageError(`${label(name)} must be an integer, got "${s}"`);
      }
      return range(name, Number(s), min, max);
    }) as Context["int"],
    // deno-lint-ignore no-explicit-any
    num: ((name: string, fallback: number | undefined, min = -Infinity, max = Infinity): any => {
      const s = str(name);
      if (s === undefined) return fallback;
      const v = Number(s);
      if (s.trim() === "" || !Number.isFinite(v)) {
        throw new UsageError(`${label(name)} must be a number, got "${s}"`);
      }
      return range(name, v, min, max);
    }) as Context["num"],
    choice: <T extends string>(name: string, choices: readonly T[], fallback: T): T => {
      const s = str(name);
      if (s === undefined) return fallback;
      if (!choices.includes(s as T)) {
        throw new UsageError(`${label(name)} must be one of ${choices.join(", ")}, got "${s}"`);
      }
      return s as T;
    },
  };
  return ctx;
}

/** Turn an error into the contract's one line and exit code. */
export function reportError(name: string, e: unknown, debug: boolean): number {
  const err = e instanceof Error ? e : new Error(String(e));
  if (isInputError(err)) {
    console.error(`${name}: error: ${err.message.replace(/\s*\n\s*/g, " ")}`);
    if (debug && err.stack) console.error(err.stack);
    return 2;
  }
  console.error(`${name}: internal error: ${err.message.split("\n")[0]}`);
  if (debug) console.error(err.stack ?? String(err));
  else console.error(`${name}: (run with --debug for the stack trace)`);
  return 1;
}

/**
 * Parse, run and exit. `main` returns the result object printed by --json (or undefined).
 * Never returns normally: calls Deno.exit with the contract's code.
 */
export async function runCommand(
  spec: CommandSpec,
  main: (ctx: Context) => Promise<unknown> | unknown,
  args: string[] = Deno.args,
): Promise<never> {
  const debug = args.includes("--debug");
  let ctx: Context;
  try {
    ctx = parseCommandLine(spec, args);
    if (ctx.values.help) {
      console.log(helpText(spec));
      Deno.exit(0);
    }
    const { min = 0, max = Infinity } = spec.positionals ?? {};
    if (ctx.positionals.length < min) {
      throw new UsageError(
        `expected ${min === max ? min : `at least ${min}`} argument(s): ${spec.usage} (see --help)`,
      );
    }
    if (ctx.positionals.length > max) {
      throw new UsageError(
        `unexpected argument "${ctx.positionals[max]}" (usage: ${spec.name} ${spec.usage})`,
      );
    }
  } catch (e) {
    Deno.exit(reportError(spec.name, e, debug));
  }
  try {
    const result = await main(ctx);
    if (ctx.json) console.log(toJson(result ?? {}));
    Deno.exit(ctx.exitCode ?? 0);
  } catch (e) {
    Deno.exit(reportError(spec.name, e, ctx.debug));
  }
}
