/**
 * `deno task gate`: the speed gate. Times every gated registry entry (`Implementation.gated`) of
 * the working tree against the same entry of a base commit, in the same run on the same machine,
 * and fails when one got slower. See gate/README.md.
 *
 * The base tree comes from git (`git archive`, gate/base.ts). Each tree's registry runs in a worker
 * process of its own (gate/worker.ts; both trees register tfjs kernels under the same names), and
 * the driver interleaves them round by round (gate/ab.ts). Per round it takes the ratio working
 * tree / base of each entry and pass; a check fails when the seeded bootstrap 95% interval of the
 * median ratio lies wholly above 1 + tolerance, in the first measurement and again in fresh
 * processes (gate/confirm.ts). No stored record is involved.
 *
 * Exit status: 0 pass (entries the base lacks are reported as not compared), 1 regression (or a
 * self-test whose assertions failed), 2 usage error or setup failure.
 *
 * This module is the CLI entry and the index of its parts: gate/options.ts (flags and options),
 * gate/check_plan.ts (what is measured), gate/adapter.ts (adapter labels, the clock) and
 * gate/run.ts (the gate and the self-test).
 *
 * @module
 */
import { type ParsedCli, runCli, UsageError } from "../harness/cli.ts";
import { BaseError } from "./base.ts";
import { SetupError } from "./check_plan.ts";
import { GATE_CLI, gateOptions } from "./options.ts";
import { formatSummary, type GateReport, reportJson } from "./report.ts";
import { runGate, runSelfTest } from "./run.ts";

export { adapterLabel, adapterMismatch, chooseClock, engineLabel, isCpuAdapter } from "./adapter.ts";
export { type CheckPlan, planChecks, SetupError } from "./check_plan.ts";
export {
  DAWN_WORKLOAD,
  DEFAULT_RETRIES,
  DEFAULT_TOLERANCE,
  GATE_CLI,
  GATE_WORKLOADS,
  type GateOptions,
  gateOptions,
} from "./options.ts";
export { type RunContext, runGate, runSelfTest } from "./run.ts";

/** Runs the command for parsed flags; returns the exit status. */
export async function gateMain({ values }: ParsedCli, started = performance.now()): Promise<number> {
  const options = gateOptions(values);
  let report: GateReport;
  try {
    const context = { started, log: (line: string) => console.error(`gate: ${line}`) };
    report = options.selfTest ? await runSelfTest(options, context) : await runGate(options, context);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof SetupError || e instanceof BaseError) {
      console.error(`gate: setup failed: ${e.message}`);
      return 2;
    }
    console.error(`gate: setup failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 2;
  }
  console.log(formatSummary(report));
  if (options.json) {
    try {
      await Deno.writeTextFile(options.json, JSON.stringify(reportJson(report), null, 2) + "\n");
    } catch (e) {
      console.error(`gate: --json: cannot write ${options.json}: ${(e as Error).message}`);
      return 2;
    }
    console.error(`gate: wrote ${options.json}`);
  }
  return report.exitCode;
}

if (import.meta.main) {
  const started = performance.now();
  await runCli(GATE_CLI, Deno.args, (parsed) => gateMain(parsed, started));
}
