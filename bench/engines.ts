/**
 * `deno task bench --engines deno,dawn` and `deno task bench --merge a.json,b.json`: the
 * cross-engine comparison (bench/cross_engine.ts).
 *
 * The WebGPU engine is chosen once per process (src/webgpu/engine.ts), so `--engines` runs the
 * `--cross` plan in one child process per engine (`deno run -A bench/main.ts --engine E --cross`,
 * with SORTPOOL_ENGINE=E, and DENO_WEBGPU_BACKEND for `deno:gl` / `deno:vulkan`), one after the
 * other, then merges their JSON files exactly as `--merge` does. `--merge` measures nothing: it
 * reads bench JSON files of any engine, adapter and plan (also JSON in bench's schema written by
 * other tools) and writes the table, its JSON and a report with the chart.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { crossEngine } from "./cross_engine.ts";
import { crossEngineJson, crossEngineMarkdown, crossEngineReport, crossEngineSvg } from "./cross_engine_report.ts";
import { type BenchFlags, engineSpecSlug } from "./flags.ts";
import { reportPaths, writeText } from "./outputs.ts";
import type { SavedRun } from "./run.ts";

/** Root of this checkout (the child processes run its bench/main.ts with its deno.json). */
const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/** Default outputs of a merge. */
export const CROSS_JSON = "out/cross-engine.json";
export const CROSS_REPORT = "bench-report/cross-engine";
const CHART_FILE = "cross-engine.svg";

/** Checks that a parsed JSON looks like a bench run; the message names the file and the missing field. */
export function asSavedRun(value: unknown, file: string): SavedRun {
  const v = value as Partial<SavedRun> | null;
  const missing = !v || typeof v !== "object"
    ? "an object"
    : !Array.isArray(v.suites)
    ? "suites"
    : !Array.isArray(v.gated)
    ? "gated"
    : !v.environment || typeof v.environment !== "object"
    ? "environment"
    : !v.environment.adapter
    ? "environment.adapter"
    : undefined;
  if (missing) throw new Error(`${file}: not a bench JSON (no ${missing}); write one with deno task bench --json`);
  return v as SavedRun;
}

/** The environment variable that lets `--merge` include untrusted files (marked as such). */
export const MERGE_UNTRUSTED_ENV = "SORTPOOL_MERGE_UNTRUSTED";

/**
 * Why a run's figures are not to be trusted (empty: nothing against them): the browser page's
 * results record a summary state, a planted kernel variant and its checks; a run that failed, ran a
 * plant or failed a check measured something other than the project's kernels working.
 */
export function untrustedReasons(value: unknown): string[] {
  const v = value as {
    summary?: { state?: unknown };
    plant?: { name?: unknown } | null;
    checks?: { results?: { check?: unknown; subject?: unknown; failed?: unknown }[] };
  };
  const out: string[] = [];
  const state = v.summary?.state;
  if (state !== undefined && state !== "done") out.push(`its run ended "${String(state)}", not "done"`);
  if (v.plant) out.push(`it ran the planted failure ${String(v.plant.name ?? "(unnamed)")}`);
  const failed = (Array.isArray(v.checks?.results) ? v.checks.results : []).filter((r) =>
    typeof r.failed === "number" && r.failed > 0
  );
  if (failed.length > 0) {
    out.push(`checks failed: ${failed.map((r) => `${r.check} on ${r.subject} (${r.failed} cases)`).join(", ")}`);
  }
  return out;
}

/**
 * Merges `files` (already measured) and writes the outputs; returns the exit status. A file with
 * {@link untrustedReasons} is refused (exit 1) unless `includeUntrusted`, which merges it with
 * its run labelled UNTRUSTED and the reasons.
 */
export async function mergeFiles(
  files: readonly string[],
  flags: Pick<BenchFlags, "json" | "report">,
  command: string,
  includeUntrusted = false,
): Promise<number> {
  const runs: { run: SavedRun; file: string }[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      console.error(`bench --merge: cannot read ${file}: ${e instanceof Error ? e.message : e}`);
      return 1;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      const run = asSavedRun(parsed, file);
      const untrusted = untrustedReasons(parsed);
      if (untrusted.length > 0 && !includeUntrusted) {
        console.error(
          `bench --merge: ${file} is not a trustworthy measurement: ${untrusted.join("; ")}. Refused; set ` +
            `${MERGE_UNTRUSTED_ENV}=1 to merge it anyway, marked UNTRUSTED.`,
        );
        return 1;
      }
      runs.push({ run: untrusted.length > 0 ? { ...run, untrusted } : run, file });
    } catch (e) {
      console.error(`bench --merge: ${e instanceof Error ? e.message : e}`);
      return 1;
    }
  }
  const merged = crossEngine(runs);
  console.log(`sort_pool2d across WebGPU engines (${runs.length} runs)\n`);
  console.log(crossEngineMarkdown(merged));
  const jsonPath = flags.json ?? CROSS_JSON;
  const report = reportPaths(flags.report ?? CROSS_REPORT);
  await writeText(jsonPath, JSON.stringify(crossEngineJson(merged), null, 2) + "\n");
  let chart: string | null = null;
  if (merged.rows.length > 0) {
    try {
      await writeText(`${report.dir}/${CHART_FILE}`, await crossEngineSvg(merged, "sort_pool2d across WebGPU engines"));
      chart = CHART_FILE;
    } catch (e) {
      console.error(`bench: the chart could not be rendered: ${e instanceof Error ? e.message : e}`);
    }
  }
  await writeText(report.markdown, crossEngineReport(merged, chart, command));
  console.log(`\nwrote ${jsonPath}, ${report.markdown}${chart ? ` (+ ${report.dir}/${chart})` : ""}`);
  return merged.rows.length > 0 ? 0 : 1;
}

/**
 * `--merge`: returns the exit status (1 when a file cannot be read, is untrusted and
 * SORTPOOL_MERGE_UNTRUSTED=1 is not set, or no case is common to all runs).
 */
export function mergeMain(flags: BenchFlags, args: readonly string[]): Promise<number> {
  return mergeFiles(
    flags.merge,
    flags,
    `deno task bench ${args.join(" ")}`,
    Deno.env.get(MERGE_UNTRUSTED_ENV) === "1",
  );
}

/**
 * `--engines`: one `--cross` child per engine, one after the other (they would share the CPU),
 * each writing `out/bench-cross-<engine>.json`; then the merge. Exit status 1 when a child
 * failed (the merge still runs over the files that were written).
 */
export async function enginesMain(
  flags: BenchFlags,
  args: readonly string[],
  progress: (line: string) => void,
): Promise<number> {
  const files: string[] = [];
  let failed = false;
  const passOn = [
    ...(flags.filter.length > 0 ? ["--filter", flags.filter.join(",")] : []),
    ...(flags.shapes.length > 0 ? ["--shapes", flags.shapes.join(",")] : []),
    ...(flags.ks.length > 0 ? ["--k", flags.ks.join(",")] : []),
  ];
  for (const spec of flags.engines) {
    const slug = engineSpecSlug(spec);
    const json = `out/bench-cross-${slug}.json`;
    const childArgs = [
      "run",
      "-A",
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/bench/main.ts`,
      "--engine",
      spec.engine,
      "--cross",
      "--json",
      json,
      "--report",
      `bench-report/cross-${slug}`,
      ...passOn,
    ];
    const env: Record<string, string> = { SORTPOOL_ENGINE: spec.engine };
    if (spec.backend) env.DENO_WEBGPU_BACKEND = spec.backend;
    progress(`engine ${slug}: deno ${childArgs.slice(4).join(" ")}`);
    const started = performance.now();
    const status = await new Deno.Command(Deno.execPath(), {
      args: childArgs,
      env,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    progress(`engine ${slug}: exit ${status.code} after ${((performance.now() - started) / 1000).toFixed(0)} s`);
    if (status.code !== 0) failed = true;
    try {
      await Deno.stat(json);
      files.push(json);
    } catch {
      progress(`engine ${slug}: wrote no ${json}; left out of the merge`);
    }
  }
  if (files.length === 0) return 1;
  const merged = await mergeFiles(files, flags, `deno task bench ${args.join(" ")}`);
  return failed ? 1 : merged;
}
