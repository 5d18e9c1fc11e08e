/**
 * The shape suites: every registry entry with a bench handle and the baselines on the plan's
 * shapes (bench/plan.ts), one interleaved suite (bench/suite.ts `runSuite`) per (shape, device
 * group), 2x2 windows with stride 2. Tasks predicted too slow from smaller shapes are skipped
 * before they run; no suite starts after the plan's deadline. Its reports and verdicts are in
 * bench/shapes_report.ts.
 *
 * @module
 */
import { BENCH_PASSES, type BenchPass } from "../harness/measure/passes.ts";
import { uniformFloat32 } from "../src/random.ts";
import { implementations } from "../src/registry.ts";
import { sizeOf } from "../src/spec.ts";
import { preparePoolBaseline } from "./baselines.ts";
import type { Implementation, Padding, SortPoolCase } from "../src/types.ts";
import { prepareCopyBench } from "./copy_kernel.ts";
import type { BenchFlags } from "./flags.ts";
import {
  type BenchPlan,
  FLOAT64_MAX_ELEMENTS,
  type Group,
  logitsFor,
  type PlannedShape,
  selectPlan,
  SHAPE_PLANS,
} from "./plan.ts";
import { COPY_NAME, maxPoolName, type Subject, type SuiteResult, taskKey } from "./rows.ts";
import type { PlanLevel } from "./run.ts";
import { shapesReport, shapesVerdicts } from "./shapes_report.ts";
import { runSuite } from "./suite.ts";
import type { BenchSuite, SuiteRunContext } from "./suite_types.ts";

/** Padding of every case (shapes are even, so "same" pads nothing). */
const PADDING: Padding = "same";

/** The shape suites' plan: the shapes and the entries and baselines that take part. */
export interface ShapesPlan {
  readonly plan: BenchPlan;
  /** `--filter` terms (empty: everything). */
  readonly filter: readonly string[];
}

function matches(name: string, filter: readonly string[]): boolean {
  return filter.length === 0 || filter.some((t) => name.includes(t));
}

/**
 * Subjects of one suite, filtered; tf.maxPool stays whenever anything else does (ratios need it).
 * `gatedOnly` (the default and cross-engine plans): only gated entries, tf.maxPool and the copy kernel.
 */
export function subjectsFor(
  planned: PlannedShape,
  group: Group,
  entries: readonly Implementation[],
  copyKernel: boolean,
  filter: readonly string[],
  data: () => Float32Array,
  gatedOnly = false,
): Subject[] {
  const { shape } = planned;
  const subjects: Subject[] = [];
  for (const entry of entries) {
    if (entry.device !== group || !entry.prepareBench || !matches(entry.name, filter)) continue;
    if (gatedOnly && entry.gated !== true) continue;
    if (entry.precision === "float64" && sizeOf(shape) > FLOAT64_MAX_ELEMENTS) continue;
    for (const k of planned.ks) {
      subjects.push({
        name: entry.name,
        kind: "entry",
        k,
        prepare: () => {
          const c: SortPoolCase = { x: data(), shape, logits: logitsFor(k), k, padding: PADDING };
          return entry.prepareBench!(c);
        },
      });
    }
  }
  for (const op of ["maxPool", "avgPool"] as const) {
    const name = `tf.${op}@${group}`;
    if (op === "avgPool" && (gatedOnly || !matches(name, filter))) continue;
    subjects.push({ name, kind: "baseline", k: null, prepare: () => preparePoolBaseline(op, group, shape, PADDING) });
  }
  if (group === "webgpu" && copyKernel && matches(COPY_NAME, filter)) {
    subjects.push({ name: COPY_NAME, kind: "copy", k: null, prepare: () => prepareCopyBench(shape) });
  }
  // Only tf.maxPool left: nothing selected in this group.
  if (subjects.every((s) => s.name === maxPoolName(group)) && !matches(maxPoolName(group), filter)) return [];
  return subjects;
}

/** The (shape, group) suites of a plan, in run order. */
function plannedSuites(plan: BenchPlan): { planned: PlannedShape; group: Group }[] {
  return plan.shapes.flatMap((p) => (["webgpu", "cpu"] as const).map((group) => ({ planned: p, group })));
}

/** A suite that did not start, with the reason. */
function notStarted(planned: PlannedShape, group: Group, why: string): SuiteResult {
  return {
    id: `${group} ${planned.label} ${planned.shape.join("x")}`,
    group,
    shapeLabel: planned.label,
    shape: planned.shape,
    padding: PADDING,
    policy: null,
    skipped: why,
    rows: [],
    queueRoundTrip: null,
    tensors: null,
    failures: [],
    durationMs: 0,
  };
}

/** Skips predicted over the suite's first-call limit from earlier suites of the run. */
function predictedSkips(
  ctx: SuiteRunContext,
  planned: PlannedShape,
  group: Group,
  subjects: readonly Subject[],
): Map<string, string> {
  const policy = planned.groups[group];
  const preSkip = new Map<string, string>();
  if ("skip" in policy) return preSkip;
  const elements = sizeOf(planned.shape);
  // Predict every task first, then remember the skipped ones' predictions (so larger shapes skip
  // them too); recording inside the loop would feed predictions back.
  const skipped: [Subject, BenchPass, number][] = [];
  for (const s of subjects) {
    for (const pass of BENCH_PASSES) {
      const predicted = ctx.history.predict(group, s.name, s.k, pass, elements);
      if (predicted && predicted.ms > policy.skipFirstCallOverMs) {
        preSkip.set(
          taskKey(s.name, s.k, pass),
          `predicted ~${predicted.ms.toFixed(0)} ms a call (${predicted.from}, scaled linearly in elements), ` +
            `over this suite's ${policy.skipFirstCallOverMs} ms limit`,
        );
        skipped.push([s, pass, predicted.ms]);
      }
    }
  }
  for (const [s, pass, ms] of skipped) ctx.history.record(group, s.name, s.k, pass, ms, elements);
  return preSkip;
}

/** Runs every (shape, group) suite of the plan. */
async function runShapes(p: ShapesPlan, ctx: SuiteRunContext): Promise<SuiteResult[]> {
  const { plan, filter } = p;
  const out: SuiteResult[] = [];
  const all = plannedSuites(plan);
  for (const [index, { planned, group }] of all.entries()) {
    let data: Float32Array | undefined;
    const subjects = subjectsFor(
      planned,
      group,
      implementations,
      ctx.unavailable === undefined,
      filter,
      () => (data ??= uniformFloat32(sizeOf(planned.shape), 7)),
      plan.gatedOnly,
    );
    if (subjects.length === 0) continue;
    const id = `${group} ${planned.label} ${planned.shape.join("x")}`;
    const elapsed = performance.now() - ctx.started;
    if (elapsed > plan.deadlineMs) {
      const why = `not started: the ${plan.name} plan starts no suite after ${plan.deadlineMs / 1000} s ` +
        `(${(elapsed / 1000).toFixed(0)} s elapsed)`;
      ctx.progress(`${id}: ${why}`);
      out.push(notStarted(planned, group, why));
      continue;
    }
    const preSkip = predictedSkips(ctx, planned, group, subjects);
    ctx.progress(`suite ${index + 1}/${all.length}: ${id}`);
    const suite = await runSuite({
      planned,
      group,
      padding: PADDING,
      subjects,
      preSkip,
      ...(group === "webgpu" && ctx.clock ? { clock: ctx.clock } : { clockNote: ctx.clockNote }),
      ...(group === "webgpu" && ctx.unavailable ? { unavailable: ctx.unavailable } : {}),
      progress: ctx.progress,
    });
    data = undefined;
    out.push(suite);
    const elements = sizeOf(planned.shape);
    for (const r of suite.rows) {
      if (r.status === "ok" && r.wall) ctx.history.record(group, r.subject, r.k, r.pass, r.wall.median, elements);
      else if (r.status === "skipped" && r.firstCallMs !== null) {
        ctx.history.record(group, r.subject, r.k, r.pass, r.firstCallMs, elements);
      }
      if (r.status === "skipped") {
        ctx.progress(`skipped ${r.subject}${r.k === null ? "" : ` k=${r.k}`} ${r.pass}: ${r.reason}`);
      }
    }
    for (const f of suite.failures) ctx.progress(`FAILURE: ${f}`);
    if (suite.skipped) ctx.progress(`${suite.id}: skipped: ${suite.skipped}`);
    else ctx.progress(`${suite.id}: done in ${(suite.durationMs / 1000).toFixed(1)} s`);
  }
  return out;
}

/** The failures of shape suites: theirs, and every failed row. */
export function shapeFailures(suites: readonly SuiteResult[]): string[] {
  return suites.flatMap((s) => [
    ...s.failures,
    ...s.rows.filter((r) => r.status === "failed").map((r) =>
      `${s.id}: ${r.subject}${r.k === null ? "" : ` k=${r.k}`} ${r.pass}: ${r.reason}`
    ),
  ]);
}

function describeShapes(p: ShapesPlan): string[] {
  const lines = [
    `${p.plan.name} plan${p.plan.gatedOnly ? " (gated entries, tf.maxPool and the copy kernel only)" : ""}; ` +
    `no suite starts after ${p.plan.deadlineMs / 1000} s`,
  ];
  for (const { planned, group } of plannedSuites(p.plan)) {
    const policy = planned.groups[group];
    const where = `${planned.label} ${planned.shape.join("x")} ${group}`;
    if ("skip" in policy) {
      lines.push(`${where}: skipped: ${policy.skip}`);
      continue;
    }
    const subjects = subjectsFor(
      planned,
      group,
      implementations,
      true,
      p.filter,
      () => new Float32Array(0),
      p.plan.gatedOnly,
    );
    if (subjects.length === 0) continue;
    const names = subjects.map((s) => (s.k === null ? s.name : `${s.name} k=${s.k}`));
    lines.push(
      `${where}: ${names.length * BENCH_PASSES.length} tasks (${names.join(", ")}; both passes), ` +
        `<= ${policy.samples} rounds (>= ${policy.minSamples})`,
    );
  }
  return lines;
}

function samplePolicies(plan: BenchPlan): string {
  return plannedSuites(plan).map(({ planned, group }) => {
    const p = planned.groups[group];
    return "skip" in p
      ? `${planned.label}/${group}: skipped`
      : `${planned.label}/${group}: <= ${p.samples} samples (>= ${p.minSamples}; stop after ${p.budgetMs} ms of ` +
        `samples), skip if the first call > ${p.skipFirstCallOverMs} ms`;
  }).join("; ");
}

/** The shape suites' entry of the suite table. */
export const shapesSuite: BenchSuite<ShapesPlan, SuiteResult[]> = {
  name: "shapes",
  summary: "every entry and baseline (the default and cross plans: gated entries, tf.maxPool, copy kernel) on the " +
    "plan's shapes, 2x2/2, interleaved per (shape, device group); kernel targets on 32x64x64x32 at k = 4",
  defaultAt: ["default", "quick", "full", "cross"],
  ownFlags: ["shapes"],
  plan(level: PlanLevel, flags: BenchFlags): ShapesPlan {
    return { plan: selectPlan(SHAPE_PLANS[level], flags.shapes, flags.ks), filter: flags.filter };
  },
  describe: describeShapes,
  method(p: ShapesPlan): Record<string, string> {
    return {
      samples: samplePolicies(p.plan),
      ...(p.plan.gatedOnly
        ? {
          subjects: `${p.plan.name} plan: the gated registry entries, tf.maxPool and the copy kernel only (WebGPU)` +
            (p.plan.name === "cross"
              ? "; every task gets exactly its untimed warm-up calls whatever its first call costs (the first pays " +
                "pipeline compilation, tens of seconds on Dawn/SwiftShader), so no first call is a sample"
              : ""),
        }
        : {}),
    };
  },
  run: runShapes,
  failures: shapeFailures,
  store: (p, suites) => ({ suites, shapes: p.plan.shapes }),
  load: (run) => (run.suites.length > 0 ? [...run.suites] : undefined),
  report: shapesReport,
  verdicts: shapesVerdicts,
};
