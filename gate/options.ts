/**
 * The speed gate's command line: its flags (`deno task gate --help`), the workloads `--workload`
 * accepts, the default tolerance and retries, and the parsed options.
 *
 * @module
 */
import { choiceFlag, defineCli, type FlagValues, intFlag, listFlag, numberFlag, UsageError } from "../harness/cli.ts";
import { DEFAULT_SEED } from "../harness/measure/stats.ts";
import type { GateClock } from "./ab.ts";
import { BASE_ENV } from "./base.ts";
import type { Slowdown } from "./selftest.ts";
import { type GateWorkload, WORKLOADS } from "./workload.ts";

/**
 * A short workload for Dawn on SwiftShader (`--workload dawn`), which runs the kernels 8-12x
 * slower than lavapipe and compiles each tree's kernels for about a minute: 1/16 of the gate's
 * data (forward 2x127x127x32, about 30-40 ms a call there; forward+backward 1x127x127x32), 11
 * rounds, 2 untimed warm-up calls (the first pays pipeline compilation). Same k, padding, odd
 * sizes and vec4 path as the gate's workload.
 */
export const DAWN_WORKLOAD: GateWorkload = {
  name: "dawn",
  shapes: { forward: [2, 127, 127, 32], forwardBackward: [1, 127, 127, 32] },
  k: 4,
  padding: "same",
  rounds: 11,
  repetitions: 2,
  warmup: 2,
};

/** The workloads `--workload` accepts: gate/workload.ts's and {@link DAWN_WORKLOAD}. */
export const GATE_WORKLOADS: Readonly<Record<string, GateWorkload>> = { ...WORKLOADS, dawn: DAWN_WORKLOAD };

/**
 * Default tolerance: a check fails when the whole 95% interval of the median ratio working tree /
 * base lies above 1.10 (and again on re-measurement). Chosen from measurements on the project's
 * 2-core CI machine (gate/README.md, "Proof"): unchanged trees stayed below it in every run, and a
 * forward kernel made 1.25x slower lands clearly above it.
 */
export const DEFAULT_TOLERANCE = 0.1;

/** Re-measurements (in fresh processes) before a failing check counts. */
export const DEFAULT_RETRIES = 1;

/** The command line of `deno task gate`. */
export const GATE_CLI = defineCli({
  command: "deno task gate",
  summary: "Speed gate: times every gated registry entry of the working tree against the same entry of a base " +
    "commit, interleaved round by round in worker processes on this machine, and fails when the 95% interval of " +
    "the median per-round ratio working tree / base lies wholly above 1 + tolerance (confirmed once in fresh " +
    "processes). Progress goes to stderr, the summary to stdout.",
  options: {
    base: {
      type: "string",
      value: "REF",
      description: `commit to compare against (default: $${BASE_ENV}, else the merge-base of HEAD with origin/main\n` +
        "or main, else HEAD~1 when HEAD is on main; a commit the clone lacks is fetched and a shallow clone deepened\n" +
        "from its remote first, every fetch named in the rule reported; gate/base.ts)",
    },
    "base-dir": {
      type: "string",
      value: "DIR",
      description: "a tree on disk as the base instead of a commit (e.g. . compares the working tree with itself)",
    },
    entries: {
      type: "string",
      value: "NAMES",
      description: "comma-separated registry entries to gate (default: every entry with gated: true)",
    },
    tolerance: {
      type: "string",
      value: "X",
      description: "0.1 = fail above 1.10x",
      default: String(DEFAULT_TOLERANCE),
    },
    workload: {
      type: "string",
      value: "NAME",
      description: "gate | small | dawn (small: a quarter of the data, the vitest self-test's; dawn: 1/16, short\n" +
        "enough for Dawn on SwiftShader)",
      default: "gate",
    },
    rounds: { type: "string", value: "N", description: "interleaved rounds per pass (default: the workload's)" },
    repetitions: {
      type: "string",
      value: "N",
      description: "calls per sample, fastest kept (default: the workload's)",
    },
    retries: {
      type: "string",
      value: "N",
      description: "re-measurements in fresh processes before a failing check counts",
      default: String(DEFAULT_RETRIES),
    },
    clock: {
      type: "string",
      value: "NAME",
      description: "auto | cpu | wall; auto: process CPU time on CPU-emulated adapters, wall time on GPUs",
      default: "auto",
    },
    seed: { type: "string", value: "N", description: "bootstrap seed", default: String(DEFAULT_SEED) },
    json: { type: "string", value: "FILE", description: "write the report with every round as JSON" },
    "self-test": {
      type: "boolean",
      description: "instead of gating: time slowed copies of the working tree's kernels and an unmodified control\n" +
        "against the working tree; succeed only when the slowed ones are caught and the control passes",
    },
    "slow-work": {
      type: "string",
      value: "N",
      description: "self-test: slow the kernels by N hash steps per invocation instead of running their body\n" +
        "twice (sensitivity measurements; gate/slowdown.ts addIdWork)",
    },
  },
  epilog: "exit status: 0 pass, 1 regression (or a failed self-test), 2 usage error or setup failure",
});

/** Parsed options of the gate. */
export interface GateOptions {
  readonly base?: string;
  readonly baseDir?: string;
  /** Entry names; undefined: the registry's gated entries. */
  readonly entries?: readonly string[];
  readonly tolerance: number;
  readonly workload: GateWorkload;
  readonly retries: number;
  readonly clock: "auto" | GateClock;
  readonly seed: number;
  readonly json?: string;
  readonly selfTest: boolean;
  /** How the self-test slows its kernels. */
  readonly slowdown: Slowdown;
}

/** Turns parsed flags into options; throws UsageError naming the flag. */
export function gateOptions(values: FlagValues): GateOptions {
  const str = (name: string) => (typeof values[name] === "string" ? values[name] as string : undefined);
  const name = choiceFlag(values, "workload", Object.keys(GATE_WORKLOADS));
  let workload = GATE_WORKLOADS[name];
  if (str("rounds") !== undefined) workload = { ...workload, rounds: intFlag(values, "rounds", 3) };
  if (str("repetitions") !== undefined) workload = { ...workload, repetitions: intFlag(values, "repetitions", 1) };
  const selfTest = values["self-test"] === true;
  if (str("base") !== undefined && str("base-dir") !== undefined) {
    throw new UsageError("--base-dir", "either --base or --base-dir", "both");
  }
  if (selfTest && (str("base") !== undefined || str("base-dir") !== undefined)) {
    throw new UsageError(
      str("base") !== undefined ? "--base" : "--base-dir",
      "no base with --self-test (it compares against the working tree)",
      "one",
    );
  }
  if (str("base") === "") throw new UsageError("--base", "a git ref", '""');
  if (str("slow-work") !== undefined && !selfTest) {
    throw new UsageError("--slow-work", "--self-test as well", "no --self-test");
  }
  return {
    base: str("base"),
    baseDir: str("base-dir"),
    entries: str("entries") === undefined ? undefined : listFlag(values, "entries", (s) => s),
    tolerance: numberFlag(values, "tolerance", 0, 10),
    workload,
    retries: intFlag(values, "retries", 0, 5),
    clock: choiceFlag(values, "clock", ["auto", "cpu", "wall"] as const),
    seed: intFlag(values, "seed", 0, 2 ** 32 - 1),
    json: str("json"),
    selfTest,
    slowdown: str("slow-work") === undefined
      ? { kind: "twice" }
      : { kind: "work", steps: intFlag(values, "slow-work", 1, 1 << 20) },
  };
}
