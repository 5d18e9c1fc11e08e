/**
 * Measures the gate's false-alarm rate: runs the gate N times (default 20) on the unchanged
 * tree, each in a fresh process as CI would, with --require-baseline (a run without a baseline
 * checks nothing), and prints how many passed, with the closest approach of any check to its
 * limit. Exit status 0 only when every run passed.
 *
 *   deno run -A ci/false_alarm.ts [--runs N] [--json FILE] [-- GATE ARGS...]
 *
 * Per run it prints each check's median ratio; "!" marks a failed check, "*" a check that failed
 * its first measurement and passed on re-measurement (ci/confirm.ts).
 *
 * @module
 */
import { SortPoolArgumentError } from "../src/validate.ts";

/** What one gate run reported in its --json output (the fields used here). */
interface GateJson {
  ok: boolean;
  conclusion: string;
  wallSeconds: number;
  tolerance: number;
  checks: {
    entry: string;
    pass: string;
    verdict: string;
    baseline: number | null;
    measured: Record<string, number>;
    history: string[];
  }[];
}

/** One gate run as seen from outside. */
export interface RunOutcome {
  readonly run: number;
  readonly exitCode: number;
  /** Wall time of the process, seconds (Deno start, tfjs import and compilation included). */
  readonly processSeconds: number;
  readonly report?: GateJson;
}

/** Parsed command line of this script. */
export interface FalseAlarmOptions {
  readonly runs: number;
  readonly jsonPath?: string;
  readonly gateArgs: string[];
}

/** Parses `[--runs N] [--json FILE] [-- GATE ARGS...]`. */
export function parseFalseAlarmArgs(args: readonly string[]): FalseAlarmOptions {
  let runs = 20;
  let jsonPath: string | undefined;
  const split = args.indexOf("--");
  const own = split < 0 ? args : args.slice(0, split);
  const gateArgs = split < 0 ? [] : args.slice(split + 1);
  for (let i = 0; i < own.length; i++) {
    const flag = own[i];
    if (flag === "--runs") {
      const text = own[++i] ?? "";
      runs = Number(text);
      if (!Number.isSafeInteger(runs) || runs < 1) {
        throw new SortPoolArgumentError("--runs", "a positive integer", JSON.stringify(text));
      }
    } else if (flag === "--json") {
      jsonPath = own[++i];
      if (!jsonPath) throw new SortPoolArgumentError("--json", "a file name", "nothing");
    } else {
      throw new SortPoolArgumentError("command line", "--runs N, --json FILE, or -- GATE ARGS", JSON.stringify(flag));
    }
  }
  for (const forbidden of ["--update-baseline", "--self-test", "--json"]) {
    if (gateArgs.includes(forbidden)) {
      throw new SortPoolArgumentError("gate arguments", `no ${forbidden} (this script sets its own)`, forbidden);
    }
  }
  return { runs, jsonPath, gateArgs };
}

async function runGateOnce(run: number, gateArgs: string[]): Promise<RunOutcome> {
  const jsonFile = await Deno.makeTempFile({ prefix: "sortpool-gate-", suffix: ".json" });
  const gate = new URL("./gate.ts", import.meta.url).pathname;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    // --require-baseline: a run without a baseline checks nothing and must not count as a pass.
    args: ["run", "-A", gate, "--require-baseline", ...gateArgs, "--json", jsonFile],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await child.output();
  const processSeconds = (performance.now() - started) / 1000;
  let report: GateJson | undefined;
  try {
    report = JSON.parse(await Deno.readTextFile(jsonFile)) as GateJson;
  } catch {
    const text = new TextDecoder();
    console.error(`run ${run}: no JSON report; stdout:\n${text.decode(stdout)}\nstderr:\n${text.decode(stderr)}`);
  } finally {
    await Deno.remove(jsonFile).catch(() => {});
  }
  return { run, exitCode: code, processSeconds, report };
}

/** How close a check came to failing: interval low end / limit (>1 fails). */
function headroom(c: GateJson["checks"][number], tolerance: number): number | undefined {
  return c.baseline === null ? undefined : c.measured.low / (c.baseline * (1 + tolerance));
}

/** Runs the gate `runs` times and prints the tally. */
export async function falseAlarm(options: FalseAlarmOptions): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const o = await runGateOnce(run, options.gateArgs);
    outcomes.push(o);
    const r = o.report;
    const detail = r
      ? r.checks.map((c) =>
        `${c.entry}/${c.pass === "forward" ? "fwd" : "fwd+bwd"} ${c.measured.median.toFixed(3)}` +
        (c.verdict === "regression" ? "!" : c.history.length > 1 ? "*" : "")
      ).join("  ")
      : "no report";
    console.log(
      `run ${String(run).padStart(2)}: ${o.exitCode === 0 ? "pass" : `FAIL(${o.exitCode})`}  ` +
        `${o.processSeconds.toFixed(0)} s  ${detail}`,
    );
  }
  const passed = outcomes.filter((o) => o.exitCode === 0).length;
  const remeasured = outcomes.filter((o) => o.report?.checks.some((c) => c.history.length > 1)).length;
  const reports = outcomes.flatMap((o) => (o.report ? [o.report] : []));
  const closest = new Map<string, number>();
  const medians = new Map<string, number[]>();
  for (const r of reports) {
    for (const c of r.checks) {
      const id = `${c.entry} ${c.pass}`;
      const h = headroom(c, r.tolerance);
      if (h !== undefined) closest.set(id, Math.max(closest.get(id) ?? 0, h));
      medians.set(id, [...(medians.get(id) ?? []), c.measured.median]);
    }
  }
  const seconds = outcomes.map((o) => o.processSeconds);
  console.log(
    `\nfalse-alarm runs: ${passed} passed / ${options.runs}` +
      (reports[0] ? ` at tolerance ${reports[0].tolerance}` : "") +
      `; process wall time ${Math.min(...seconds).toFixed(0)}-${Math.max(...seconds).toFixed(0)} s` +
      `; ${remeasured} run(s) re-measured a failing check (ci/confirm.ts)`,
  );
  for (const [id, ms] of medians) {
    const h = closest.get(id);
    console.log(
      `  ${id.padEnd(32)} median ratio ${Math.min(...ms).toFixed(3)}..${Math.max(...ms).toFixed(3)}` +
        (h === undefined ? "  (no baseline)" : `  closest low/limit ${h.toFixed(3)} (fails above 1)`),
    );
  }
  if (options.jsonPath) {
    await Deno.writeTextFile(
      options.jsonPath,
      JSON.stringify({ runs: options.runs, passed, remeasured, outcomes }, null, 2) + "\n",
    );
  }
  return outcomes;
}

if (import.meta.main) {
  let options: FalseAlarmOptions;
  try {
    options = parseFalseAlarmArgs(Deno.args);
  } catch (e) {
    console.error(`false_alarm: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const outcomes = await falseAlarm(options);
  Deno.exit(outcomes.every((o) => o.exitCode === 0) ? 0 : 1);
}
