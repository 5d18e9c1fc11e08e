/**
 * The flags of the replay tools (reproduce/replay_export.ts, replay_trace.ts, replay_grads.ts):
 * `deno task reproduce`'s own flags, with its help, read by its own `settingsFrom`, so a replay
 * names the run it replays in the run's terms and bad input is the same usage error. Only the
 * defaults differ: a replay defaults to the reduced protocol (README "Reduced run").
 *
 * @module
 */
import { type FlagSpec, type FlagValues, UsageError } from "../harness/cli.ts";
import { CLI, type Settings, settingsFrom } from "./main.ts";

const REDUCED_DEFAULTS: Readonly<Record<string, string>> = {
  "train-limit": "2000",
  "test-limit": "1000",
  epochs: "5",
  "bn-momentum": "0.5",
  seed: "0",
  backend: "cpu",
};

/** The flags `settingsFrom` reads that describe a run (not its outputs or modes). */
const RUN_FLAGS = ["k", "seed", "seeds", "epochs", "train-limit", "test-limit", "batch-size", "bn-momentum", "data"];

/**
 * `deno task reproduce`'s run flags with reduced-protocol defaults; `backend` and
 * `conv-filter-grad` too when the tool trains, and `--k` defaulting to 1 for a tool that replays one (k, seed) pair.
 */
export function replayFlags(tool: { readonly backend: boolean; readonly onePair: boolean }): Record<string, FlagSpec> {
  const defaults = tool.onePair ? { ...REDUCED_DEFAULTS, k: "1" } : REDUCED_DEFAULTS;
  const out: Record<string, FlagSpec> = {};
  for (const name of tool.backend ? [...RUN_FLAGS, "backend", "conv-filter-grad"] : RUN_FLAGS) {
    const spec = CLI.options[name];
    out[name] = defaults[name] === undefined ? spec : { ...spec, default: defaults[name] };
  }
  return out;
}

/**
 * The run settings of the flags, read and checked by `deno task reproduce`'s own reader (a tool
 * without `--backend` runs on tfjs's cpu backend, where the initializers' numbers are the same).
 */
export function replaySettings(values: FlagValues, args: readonly string[]): Settings {
  return settingsFrom({ backend: "cpu", "conv-filter-grad": "sliced", ...values }, args);
}

/** The settings of a tool that replays exactly one (k, seed) pair: one --k and one seed. */
export function onePairSettings(values: FlagValues, args: readonly string[]): Settings {
  const s = replaySettings(values, args);
  if (s.ks.length !== 1) throw new UsageError("--k", "one value of k (this tool replays one pair)", String(values.k));
  if (s.seeds.length !== 1) {
    throw new UsageError("--seeds", "one seed (this tool replays one pair)", String(values.seeds));
  }
  return s;
}
