/**
 * Measures the gate's error rates by running it N times, each a fresh process as CI would, and
 * tallying the outcomes:
 *
 *   deno run -A gate/false_alarm.ts [--runs 20] [--expect pass|fail] [--json FILE] [-- GATE ARGS...]
 *
 * `--expect pass` (default) on an unchanged tree counts false alarms (e.g. `-- --base-dir .` or
 * `-- --base HEAD` on a clean checkout); `--expect fail` on a tree with a regression counts
 * catches (e.g. against the parent of a commit that slowed a kernel); with `-- --self-test ...` a
 * run passes when the self-test's assertions held. Per run it prints the exit status, the time,
 * the load average and each check's median ratio ("!" a regression, "*" a check that failed its
 * first measurement and passed on re-measurement); then per check how often it was a regression,
 * the range of its medians and its highest interval low end. Progress on stderr, results on stdout.
 * Exit status 0 when every run ended as expected, 1 otherwise, 2 usage error.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { choiceFlag, defineCli, intFlag, type ParsedCli, runCli, UsageError } from "../harness/cli.ts";

/** The command line of this script. */
export const FALSE_ALARM_CLI = defineCli({
  command: "deno run -A gate/false_alarm.ts",
  summary: "Runs deno task gate N times in fresh processes and tallies how many ended as expected, with each " +
    "check's regressions, range of median ratios and highest interval low end.",
  options: {
    runs: { type: "string", value: "N", description: "gate runs", default: "20" },
    expect: {
      type: "string",
      value: "OUTCOME",
      description: "pass (exit 0: count false alarms) or fail (exit 1: count catches)",
      default: "pass",
    },
    json: { type: "string", value: "FILE", description: "write every run's outcome and report as JSON" },
  },
  positionals: "[-- GATE ARGS...]",
  epilog: "exit status: 0 every run ended as expected, 1 otherwise, 2 usage error",
});

/** Parsed options. */
export interface FalseAlarmOptions {
  readonly runs: number;
  readonly expect: "pass" | "fail";
  readonly jsonPath?: string;
  readonly gateArgs: readonly string[];
}

/** Checks and converts parsed flags; gate arguments come after `--`. Throws UsageError. */
export function falseAlarmOptions(
  { values, positionals }: Pick<ParsedCli, "values" | "positionals">,
): FalseAlarmOptions {
  for (const forbidden of ["--json", "--help", "-h"]) {
    if (positionals.some((a) => a === forbidden || a.startsWith(`${forbidden}=`))) {
      throw new UsageError("GATE ARGS", `no ${forbidden} (this script sets its own)`, forbidden);
    }
  }
  return {
    runs: intFlag(values, "runs", 1, 1000),
    expect: choiceFlag(values, "expect", ["pass", "fail"] as const),
    jsonPath: typeof values.json === "string" ? values.json : undefined,
    gateArgs: positionals,
  };
}

/** What one gate run reported in its --json output (the fields used here). */
interface GateJson {
  exitCode: number;
  conclusion: string;
  wallSeconds: number;
  tolerance: number;
  checks: {
    candidate: string;
    entry: string;
    pass: string;
    verdict: string;
    history: string[];
    limit: number;
    ratio: { median: number; low: number; high: number } | null;
  }[];
}

/** One gate run as seen from outside. */
export interface RunOutcome {
  readonly run: number;
  readonly exitCode: number;
  /** Wall time of the process, seconds (Deno start and everything the gate does). */
  readonly processSeconds: number;
  /** 1-minute load average when the run started. */
  readonly load: number;
  readonly report?: GateJson;
}

async function runGateOnce(run: number, gateArgs: readonly string[]): Promise<RunOutcome> {
  const jsonFile = await Deno.makeTempFile({ prefix: "sortpool-gate-", suffix: ".json" });
  const gate = fileURLToPath(new URL("./gate.ts", import.meta.url));
  const load = Deno.loadavg()[0];
  const started = performance.now();
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", gate, ...gateArgs, "--json", jsonFile],
    stdout: "piped",
    stderr: "piped",
  }).output();
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
  return { run, exitCode: code, processSeconds, load, report };
}

const checkName = (c: GateJson["checks"][number]) =>
  `${c.candidate === "working tree" ? "" : `${c.candidate}: `}${c.entry} ${c.pass === "forward" ? "fwd" : "fwd+bwd"}`;

/** Runs the gate `options.runs` times and prints one line per run and the tally; returns the outcomes. */
export async function falseAlarm(options: FalseAlarmOptions): Promise<RunOutcome[]> {
  const wanted = options.expect === "pass" ? 0 : 1;
  const outcomes: RunOutcome[] = [];
  for (let run = 1; run <= options.runs; run++) {
    console.error(`false_alarm: run ${run}/${options.runs}: deno task gate ${options.gateArgs.join(" ")}`);
    const o = await runGateOnce(run, options.gateArgs);
    outcomes.push(o);
    const detail = o.report
      ? o.report.checks.map((c) =>
        `${checkName(c)} ${c.ratio ? c.ratio.median.toFixed(3) : "-"}` +
        (c.verdict === "regression" ? "!" : c.history.length > 1 ? "*" : "")
      ).join("  ")
      : "no report";
    console.log(
      `run ${String(run).padStart(2)}: exit ${o.exitCode}${o.exitCode === wanted ? "" : " (unexpected)"}  ` +
        `${o.processSeconds.toFixed(0)} s  load ${o.load.toFixed(1)}  ${detail}`,
    );
  }
  const matched = outcomes.filter((o) => o.exitCode === wanted).length;
  const reports = outcomes.flatMap((o) => (o.report ? [o.report] : []));
  const perCheck = new Map<string, { regressions: number; medians: number[]; closest: number }>();
  for (const r of reports) {
    for (const c of r.checks) {
      const t = perCheck.get(checkName(c)) ?? { regressions: 0, medians: [], closest: 0 };
      if (c.verdict === "regression") t.regressions++;
      if (c.ratio) {
        t.medians.push(c.ratio.median);
        t.closest = Math.max(t.closest, c.ratio.low / c.limit);
      }
      perCheck.set(checkName(c), t);
    }
  }
  const seconds = outcomes.map((o) => o.processSeconds);
  const loads = outcomes.map((o) => o.load);
  console.log(
    `\n${matched} of ${options.runs} runs ended as expected (exit ${wanted}: ${options.expect})` +
      (reports[0] ? ` at tolerance ${reports[0].tolerance}` : "") +
      `; process wall time ${Math.min(...seconds).toFixed(0)}-${Math.max(...seconds).toFixed(0)} s` +
      `; load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
  );
  for (const [name, t] of perCheck) {
    const range = t.medians.length
      ? `median ratio ${Math.min(...t.medians).toFixed(3)}..${Math.max(...t.medians).toFixed(3)}`
      : "not measured";
    console.log(
      `  ${name.padEnd(44)} regression in ${t.regressions}/${reports.length} runs; ${range}; ` +
        `highest interval low end / limit ${t.closest.toFixed(3)} (fails above 1)`,
    );
  }
  if (options.jsonPath) {
    await Deno.writeTextFile(options.jsonPath, JSON.stringify({ options, outcomes }, null, 2) + "\n");
    console.error(`false_alarm: wrote ${options.jsonPath}`);
  }
  return outcomes;
}

/** The command: runs and tallies; exit 0 when every run ended as expected. */
export async function falseAlarmMain(parsed: ParsedCli): Promise<number> {
  const options = falseAlarmOptions(parsed);
  const outcomes = await falseAlarm(options);
  const wanted = options.expect === "pass" ? 0 : 1;
  return outcomes.every((o) => o.exitCode === wanted) ? 0 : 1;
}

if (import.meta.main) await runCli(FALSE_ALARM_CLI, Deno.args, falseAlarmMain);
