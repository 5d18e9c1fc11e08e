/**
 * The one command-line convention of every tool in this project (check-grads, bench, gate, golden,
 * conformance, reproduce, ...): flags parsed by `node:util` `parseArgs` in strict mode (unknown flags
 * are rejected), `-h`/`--help` listing every flag, usage errors as a {@link UsageError} naming the
 * flag, progress on stderr and results on stdout, exit code 2 for usage errors.
 *
 * @example
 * ```ts
 * import { defineCli, runCli } from "./cli.ts";
 * const cli = defineCli({
 *   command: "deno task demo",
 *   summary: "Says hello.",
 *   options: { name: { type: "string", value: "NAME", description: "who to greet", default: "world" } },
 * });
 * runCli(cli, Deno.args, ({ values }) => {
 *   console.log(`hello ${values.name}`);
 *   return 0;
 * });
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureRuntimeDir } from "./runtime_dir.ts";
import { ENGINE_NAMES, EngineError, type EngineName, parseEngineName, useEngine } from "../src/webgpu/engine.ts";

/** A command-line usage error: names the flag, what was expected and what was received. Exit code 2. */
export class UsageError extends Error {
  /** The flag at fault, e.g. "--k" (empty when the error is about the command line as a whole). */
  readonly flag: string;
  constructor(flag: string, expected: string, received: string) {
    super(`${flag ? `${flag}: ` : ""}expected ${expected}, received ${received}`);
    this.name = "UsageError";
    this.flag = flag;
  }
}

/** One flag of a command. */
export interface FlagSpec {
  /** "boolean" for a switch, "string" for a flag that takes a value. */
  readonly type: "boolean" | "string";
  /** One-letter alias (e.g. "q" for -q). `-h` is reserved for --help. */
  readonly short?: string;
  /** Placeholder shown in help for a string flag, e.g. "FILE" or "LIST". */
  readonly value?: string;
  /** One line (or a few) of help text. */
  readonly description: string;
  /** Default value, shown in help. */
  readonly default?: string | boolean;
  /** A string flag that may be given several times (values collected in order). */
  readonly multiple?: boolean;
}

/** A command's flags and help text. */
export interface CliSpec {
  /** How the user invokes it, e.g. "deno task bench". */
  readonly command: string;
  /** What it does, one paragraph. */
  readonly summary: string;
  /** Flags by long name (without the leading dashes); `help` is added automatically. */
  readonly options: Readonly<Record<string, FlagSpec>>;
  /** Usage suffix for positionals, e.g. "-- CMD [ARGS...]"; omit when the command takes none. */
  readonly positionals?: string;
  /** Extra help text printed after the flag list (exit codes, examples). */
  readonly epilog?: string;
}

/** Parsed flag values: strings, booleans, string arrays for `multiple` flags; undefined when absent without default. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Result of {@link parseCli}. */
export interface ParsedCli {
  readonly values: FlagValues;
  readonly positionals: string[];
  /** True when -h/--help was given: the caller prints {@link helpText} and exits 0. */
  readonly help: boolean;
}

/** Returns the spec unchanged; exists so that specs are type-checked where they are written. */
export function defineCli(spec: CliSpec): CliSpec {
  return spec;
}

/**
 * Flags every command takes: `--engine` chooses the WebGPU engine (src/webgpu/engine.ts) for the
 * command and for the processes it starts.
 */
export const COMMON_FLAGS: Readonly<Record<string, FlagSpec>> = {
  engine: {
    type: "string",
    value: "NAME",
    description: `WebGPU engine: ${ENGINE_NAMES.join(" or ")} (Deno's own wgpu, or Dawn from npm webgpu, ` +
      "Chrome's and Node's engine);\ndefault: SORTPOOL_ENGINE, else deno",
  },
};

function allOptions(spec: CliSpec): Record<string, FlagSpec> {
  return { ...COMMON_FLAGS, ...spec.options };
}

/** The `--help` text: usage line, summary, every flag with its default, and the epilog. */
export function helpText(spec: CliSpec): string {
  spec = { ...spec, options: allOptions(spec) };
  const names = Object.keys(spec.options);
  const usage = `usage: ${spec.command} [flags]${spec.positionals ? ` ${spec.positionals}` : ""}`;
  const rows: [string, string][] = names.map((name) => {
    const f = spec.options[name];
    const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
    const def = f.default !== undefined && f.default !== false ? ` (default: ${String(f.default)})` : "";
    return [left, `${f.description}${def}`];
  });
  rows.push(["-h, --help", "this text"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const body = rows.map(([l, r]) => {
    const [first, ...rest] = r.split("\n");
    return [`  ${l.padEnd(width)}${first}`, ...rest.map((line) => `  ${"".padEnd(width)}${line}`)].join("\n");
  });
  return [usage, "", spec.summary, "", "flags:", ...body, ...(spec.epilog ? ["", spec.epilog] : [])].join("\n");
}

/**
 * Parses `args` strictly against `spec`. Throws {@link UsageError} for an unknown flag, a missing
 * value, a value given to a switch, or positionals where the command takes none.
 */
export function parseCli(spec: CliSpec, args: readonly string[]): ParsedCli {
  spec = { ...spec, options: allOptions(spec) };
  const options: Record<string, { type: "boolean" | "string"; short?: string; multiple?: boolean }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, f] of Object.entries(spec.options)) {
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: spec.positionals !== undefined });
  } catch (e) {
    throw toUsageError(e, spec);
  }
  const values: FlagValues = {};
  for (const [name, f] of Object.entries(spec.options)) {
    const v = (parsed.values as FlagValues)[name];
    values[name] = v === undefined ? f.default : v;
  }
  return { values, positionals: parsed.positionals, help: parsed.values.help === true };
}

function toUsageError(e: unknown, spec: CliSpec): UsageError {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code ?? "";
  // node's messages quote the option as '--name', '-n, --name' or '--name <value>': prefer the long name.
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  const flag = /--[A-Za-z0-9][\w-]*/.exec(quoted)?.[0] ?? /-[A-Za-z0-9]/.exec(quoted)?.[0] ?? "";
  const known = ["--help", ...Object.keys(spec.options).map((n) => `--${n}`)].join(", ");
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return new UsageError(flag, `one of ${known}`, `unknown flag ${flag}`);
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const arg = /'([^']*)'/.exec(message)?.[1] ?? "?";
    return new UsageError("", `flags only (${spec.command} takes no positional arguments)`, JSON.stringify(arg));
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    if (/ambiguous/.test(message)) {
      return new UsageError(
        flag,
        `a value (write ${flag}=-5 for a value that starts with a dash)`,
        "an argument that starts with a dash",
      );
    }
    const wantsValue = /argument missing/.test(message);
    return new UsageError(
      flag,
      wantsValue ? "a value" : "no value (it is a switch)",
      wantsValue ? "nothing" : "a value",
    );
  }
  return new UsageError(flag, "valid flags (see --help)", message);
}

/** Reads a string flag as an integer in [min, max]; throws UsageError naming the flag. */
export function intFlag(values: FlagValues, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[name];
  const s = typeof raw === "string" ? raw.trim() : String(raw);
  const n = /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new UsageError(`--${name}`, `an integer ${range}`, JSON.stringify(raw));
  }
  return n;
}

/** Reads a string flag as a number in [min, max]; throws UsageError naming the flag. */
export function numberFlag(values: FlagValues, name: string, min: number, max = Infinity): number {
  const raw = values[name];
  const s = typeof raw === "string" ? raw.trim() : "";
  const n = s === "" ? NaN : Number(s);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name}`, `a number in [${min}, ${max}]`, JSON.stringify(raw));
  }
  return n;
}

/** Reads a comma-separated list flag; `each` converts and checks one item (throw UsageError from it). */
export function listFlag<T>(values: FlagValues, name: string, each: (item: string) => T): T[] {
  const raw = values[name];
  const items = typeof raw === "string" ? raw.split(",").map((t) => t.trim()) : [];
  if (items.length === 0 || items.some((t) => t.length === 0)) {
    throw new UsageError(`--${name}`, "a comma-separated list of one or more items, none empty", JSON.stringify(raw));
  }
  return items.map(each);
}

/** Reads a string flag that must be one of `choices`. */
export function choiceFlag<T extends string>(values: FlagValues, name: string, choices: readonly T[]): T {
  const raw = values[name];
  if (typeof raw === "string" && (choices as readonly string[]).includes(raw)) return raw as T;
  throw new UsageError(`--${name}`, `one of ${choices.join(", ")}`, JSON.stringify(raw));
}

/**
 * Installs the engine `--engine` names (exported as SORTPOOL_ENGINE, so that worker processes the
 * command starts use it too), or the one SORTPOOL_ENGINE names.
 */
export async function chooseEngine(flag: FlagValues[string]): Promise<void> {
  let name: EngineName | undefined;
  if (typeof flag === "string") {
    try {
      name = parseEngineName(flag, "--engine");
    } catch {
      throw new UsageError("--engine", `one of ${ENGINE_NAMES.join(", ")}`, JSON.stringify(flag));
    }
    Deno.env.set("SORTPOOL_ENGINE", name);
  }
  try {
    await useEngine(name);
  } catch (e) {
    if (e instanceof EngineError && /^SORTPOOL_ENGINE: /.test(e.message)) {
      throw new UsageError(
        "SORTPOOL_ENGINE",
        `one of ${ENGINE_NAMES.join(", ")} (or --engine)`,
        JSON.stringify(
          Deno.env.get("SORTPOOL_ENGINE"),
        ),
      );
    }
    throw e;
  }
}

/**
 * Runs a command: parses `args`, prints help (exit 0) or a usage error with a pointer to --help
 * (exit 2), otherwise awaits `main` and exits with its code. Unexpected errors print their stack and exit 1.
 * Before `main` it gives the process a private XDG_RUNTIME_DIR when none is set
 * (harness/runtime_dir.ts), so no task's WebGPU adapter request makes lavapipe complain.
 */
export async function runCli(
  spec: CliSpec,
  args: readonly string[],
  main: (parsed: ParsedCli) => number | Promise<number>,
): Promise<never> {
  let code: number;
  ensureRuntimeDir();
  try {
    const parsed = parseCli(spec, args);
    if (parsed.help) {
      console.log(helpText(spec));
      code = 0;
    } else {
      await chooseEngine(parsed.values.engine);
      code = await main(parsed);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${spec.command}: ${e.message}\n(see ${spec.command} --help)`);
      code = 2;
    } else {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      code = 1;
    }
  }
  Deno.exit(code);
}
