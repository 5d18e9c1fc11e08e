/**
 * `deno task conformance [flags] -- CMD [ARGS...]`: checks a port of sort_pool2d in any language
 * against the spec. Starts CMD once and talks to it in JSON lines over its stdin and stdout (the
 * protocol: conformance/protocol.ts and conformance/README.md), sending every golden vector, seeded
 * generated cases (general windows and per-channel logits included, unless `--windows 2x2` or
 * `--logits shared` says the port does not support them: those are skipped and counted) and bad
 * inputs; compares each answer with the float64 reference.
 *
 * Exit codes: 0 every case passed, 1 any case failed (or the port crashed, hung or broke the
 * protocol), 2 usage error (bad flag, no CMD or no `--` before it, CMD cannot be started, a --json
 * FILE that cannot be written, a --filter that matches nothing).
 *
 * @module
 */
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  choiceFlag,
  type CliSpec,
  COMMON_FLAGS,
  defineCli,
  intFlag,
  listFlag,
  runCli,
  UsageError,
} from "../harness/cli.ts";
import { DEFAULT_CASES_PER_CLASS, DEFAULT_SEED } from "./cases.ts";
import { killAllPorts, PortStartError } from "./port.ts";
import { runKit } from "./run.ts";

/** The command line of `deno task conformance`. */
export const CONFORMANCE_CLI = defineCli({
  command: "deno task conformance",
  summary: "Checks a sort_pool2d port in any language against SPEC.md: starts CMD once, sends one JSON request " +
    "per line on its stdin (golden vectors, seeded generated cases, bad inputs) and checks each answer line on its " +
    "stdout against the float64 reference. Protocol and how to read a failure: conformance/README.md.",
  positionals: "-- CMD [ARGS...]",
  options: {
    precision: {
      type: "string",
      value: "P",
      description: "the port's arithmetic: float32 or float64 (inputs and tolerances follow it)",
      default: "float32",
    },
    "weights-order": {
      type: "string",
      value: "ORDER",
      description: "largest-first (this spec: logits[0] weights the largest value) or smallest-first\n" +
        "(the original TF code: logits[k-1] weights the largest); the kit reverses logits and dLogits",
      default: "largest-first",
    },
    windows: {
      type: "string",
      value: "W",
      description: "the windows the port supports: any (every poolSize and strides 1..4) or 2x2 (only 2x2\n" +
        "windows with stride 2: cases with poolSize or strides are skipped, and counted in the report)",
      default: "any",
    },
    logits: {
      type: "string",
      value: "L",
      description: "the logits the port takes: any (k shared, or C·k per channel) or shared (only k: per-channel\n" +
        "cases are skipped, and counted in the report)",
      default: "any",
    },
    "timeout-ms": {
      type: "string",
      value: "MS",
      description: "longest wait for one answer; the first includes the port's start-up",
      default: "10000",
    },
    seed: { type: "string", value: "S", description: "seed of the generated cases", default: String(DEFAULT_SEED) },
    cases: {
      type: "string",
      value: "N",
      description: "generated cases per class (0: golden vectors and bad inputs only)",
      default: String(DEFAULT_CASES_PER_CLASS),
    },
    filter: {
      type: "string",
      value: "LIST",
      description: "only cases matching one of these comma-separated terms: a whole case name, or the start of\n" +
        "one ending where a name part ends (before / or #): ties = the ties class, ties#3 = both requests of\n" +
        "ties#3, golden/ties-k2 = both requests of that golden case; a term ending in * is a plain prefix",
    },
    show: {
      type: "string",
      value: "N",
      description: "failing cases reported in full, with their replay line (the rest: one line each)",
      default: "20",
    },
    json: { type: "string", value: "FILE", description: "also write the whole report (every case) as JSON" },
  },
  epilog: [
    "examples:",
    "  deno task conformance -- /usr/bin/python3 conformance/ports/numpy_port.py",
    "  deno task conformance --precision float64 -- node conformance/ports/js_port.mjs --precision float64",
    "  deno task conformance --weights-order smallest-first -- ./my_tf_port",
    "  deno task conformance --windows 2x2 --logits shared -- ./port_of_the_article_layer",
    "  deno task conformance --filter ties#3/gradient -- ./my_port      (replays one case by name)",
    "",
    "The -- is required: everything after it is the port's command line, passed as is (its own flags",
    "included); before it only the kit's flags.",
    "",
    "exit codes: 0 all cases passed; 1 a case failed, or the port crashed, hung or broke the protocol;",
    "2 usage error (bad flag, no CMD or no -- before it, CMD not found, --json FILE not writable, --filter",
    'matching nothing). The last line of stdout is always "N passed, M failed".',
  ].join("\n"),
});

/** A command line split at its first `--`: the kit's flags before it, the port's command after it. */
export interface KitCommandLine {
  /** Everything before the first `--` (parsed as the kit's flags). */
  readonly kitArgs: string[];
  /** Everything after it: the port's program and arguments (empty when there is no `--`). */
  readonly command: string[];
}

/**
 * Splits `args` at the first `--`. The `--` is required: without it a port's flags that share a
 * name with the kit's (`--precision`, `--seed`) would silently be taken by the kit. So any
 * positional argument before the first `--` (found by a lenient scan that knows which of the kit's
 * flags take a value) is a UsageError telling to put `--` before the port's command.
 *
 * @throws UsageError when a positional argument comes before the first `--` (or there is no `--`).
 */
export function splitCommandLine(spec: CliSpec, args: readonly string[]): KitCommandLine {
  const at = args.indexOf("--");
  const kitArgs = at < 0 ? [...args] : args.slice(0, at);
  const command = at < 0 ? [] : args.slice(at + 1);
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, f] of Object.entries({ ...COMMON_FLAGS, ...spec.options })) {
    options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
  }
  // Lenient: unknown flags are reported by the strict parse afterwards; here only positionals matter.
  const { tokens } = parseArgs({ args: kitArgs, options, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((t) => t.kind === "positional");
  if (first) {
    const stray = kitArgs.slice(first.index).join(" ");
    throw new UsageError(
      "",
      `-- before the port's command (${spec.command} [flags] -- CMD [ARGS...]; without it the port's own ` +
        "flags would be read as the kit's)",
      at < 0 ? `${JSON.stringify(stray)} with no -- before it` : `${JSON.stringify(stray)} before the --`,
    );
  }
  return { kitArgs, command };
}

/**
 * Checks up front that `--json FILE` can be written, so that a bad path fails at once (exit 2)
 * rather than after the whole run: FILE must not be a directory, its parent must be an existing
 * directory, and FILE must be writable there (checked by opening it for writing without truncating
 * it; a file that does not exist yet is created empty and removed again).
 *
 * @throws UsageError naming --json.
 */
export async function checkJsonPath(path: string): Promise<void> {
  const fail = (received: string): never => {
    throw new UsageError("--json", "a file path that can be written (its directory must exist)", received);
  };
  if (path.length === 0) fail('""');
  let existing: Deno.FileInfo | undefined;
  try {
    existing = await Deno.stat(path);
  } catch {
    // Not there (or not reachable: a parent that is a file, no permission): the parent's check says which.
  }
  if (existing?.isDirectory) fail(`${JSON.stringify(path)}, a directory`);
  if (!existing) {
    const parent = dirname(path);
    try {
      const info = await Deno.stat(parent);
      if (!info.isDirectory) fail(`${JSON.stringify(path)}: ${JSON.stringify(parent)} is not a directory`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      fail(`${JSON.stringify(path)}: its directory ${JSON.stringify(parent)} does not exist`);
    }
  }
  try {
    const file = await Deno.open(path, existing ? { write: true } : { write: true, createNew: true });
    file.close();
    if (!existing) await Deno.remove(path);
  } catch (e) {
    fail(`${JSON.stringify(path)}, which cannot be written (${(e as Error).message})`);
  }
}

if (import.meta.main) {
  // Ctrl-C or a SIGTERM to the kit ends the port too.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      killAllPorts();
      console.error(`conformance: interrupted (${signal}); the port was killed`);
      Deno.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
  // The split's error is thrown from inside runCli (which then parses no flags), so that it is
  // reported like every other usage error: message, pointer to --help, exit code 2.
  let split: KitCommandLine | UsageError;
  try {
    split = splitCommandLine(CONFORMANCE_CLI, Deno.args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    split = e;
  }
  await runCli(CONFORMANCE_CLI, split instanceof UsageError ? [] : split.kitArgs, async ({ values }) => {
    if (split instanceof UsageError) throw split;
    const command = split.command;
    if (command.length === 0) {
      throw new UsageError("", "a port command after -- (e.g. -- python3 my_port.py)", "none");
    }
    const precision = choiceFlag(values, "precision", ["float32", "float64"] as const);
    const weightsOrder = choiceFlag(values, "weights-order", ["largest-first", "smallest-first"] as const);
    const windows = choiceFlag(values, "windows", ["any", "2x2"] as const);
    const logits = choiceFlag(values, "logits", ["any", "shared"] as const);
    const timeoutMs = intFlag(values, "timeout-ms", 1, 3_600_000);
    const seed = intFlag(values, "seed", -(2 ** 31), 2 ** 31 - 1);
    const casesPerClass = intFlag(values, "cases", 0, 10_000);
    const show = intFlag(values, "show", 0);
    const filter = values.filter === undefined ? [] : listFlag(values, "filter", (s) => s);
    const json = typeof values.json === "string" ? values.json : undefined;
    if (json !== undefined) await checkJsonPath(json);
    let report;
    try {
      report = await runKit({
        command,
        precision,
        weightsOrder,
        supports: { windows, logits },
        timeoutMs,
        seed,
        casesPerClass,
        filter,
        show,
        out: (line) => console.log(line),
        err: (line) => console.error(line),
      });
    } catch (e) {
      if (e instanceof PortStartError) throw new UsageError("CMD", "a program that can be started", e.message);
      throw e;
    } finally {
      killAllPorts();
    }
    if (json) await Deno.writeTextFile(json, JSON.stringify(report, null, 2) + "\n");
    return report.failed === 0 ? 0 : 1;
  });
}
