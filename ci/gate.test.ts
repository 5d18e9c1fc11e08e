import { describe, expect, test } from "vitest";
import {
  adapterKey,
  BASELINE_FORMAT,
  emptyBaseline,
  lookupBaseline,
  mergeBaseline,
  parseBaseline,
  readBaseline,
} from "./baseline.ts";
import { DEFAULT_BASELINE_PATH } from "./baseline.ts";
import { DEFAULT_ENTRIES, DEFAULT_TOLERANCE, isCpuAdapter, parseGateArgs, resolveEntries } from "./gate.ts";
import { type Check, evaluate, type GateEntry, MAXPOOL, type Measurements } from "./measure.ts";
import { judgeWithConfirmation } from "./confirm.ts";
import { parseFalseAlarmArgs } from "./false_alarm.ts";
import type { Verdict } from "./verdict.ts";
import { formatSummary, reportJson, SCREEN_WIDTH } from "./report.ts";
import { bootstrapMedianInterval, median, quantileSorted } from "./stats.ts";
import { mulberry32 } from "../src/random.ts";
import { processCpuMs, roundOrder, timeInterleaved } from "./timing.ts";
import { judge } from "./verdict.ts";
import { GATE_WORKLOAD, SMALL_WORKLOAD, workloadId } from "./workload.ts";
import { referenceImplementation } from "../src/reference.ts";
import type { Implementation } from "../src/types.ts";
import { SortPoolArgumentError } from "../src/validate.ts";

describe("stats", () => {
  test("median of odd and even counts, unsorted input", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/at least one sample/);
  });

  test("quantileSorted interpolates between order statistics", () => {
    expect(quantileSorted([0, 10], 0.25)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(quantileSorted([1, 2, 3, 4, 5], 1)).toBe(5);
    expect(() => quantileSorted([1], 1.5)).toThrow(/q: expected/);
  });

  test("bootstrap interval is deterministic, contains the median, and narrows with more data", () => {
    const noisy = (n: number, seed: number) => {
      const r = mulberry32(seed);
      return Array.from({ length: n }, () => 1 + (r() - 0.5) * 0.2);
    };
    const small = noisy(15, 1);
    const i1 = bootstrapMedianInterval(small, { seed: 9 });
    expect(bootstrapMedianInterval(small, { seed: 9 })).toEqual(i1);
    expect(i1.low).toBeLessThanOrEqual(i1.median);
    expect(i1.high).toBeGreaterThanOrEqual(i1.median);
    const i2 = bootstrapMedianInterval(noisy(400, 1), { seed: 9 });
    expect(i2.high - i2.low).toBeLessThan(i1.high - i1.low);
    // Constant data: a zero-width interval at the constant.
    expect(bootstrapMedianInterval([2, 2, 2])).toEqual({ median: 2, low: 2, high: 2 });
  });

  test("a single outlier barely moves the interval (why the median)", () => {
    const base = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0, 1.01, 0.99, 1.0, 1.0, 1.02, 0.98, 1.01, 0.99, 1.0];
    const withOutlier = [...base.slice(1), 25];
    const i = bootstrapMedianInterval(withOutlier);
    expect(i.high).toBeLessThan(1.05);
  });

  test("bad options are rejected", () => {
    expect(() => bootstrapMedianInterval([])).toThrow(/values/);
    expect(() => bootstrapMedianInterval([1], { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapMedianInterval([1], { confidence: 1 })).toThrow(/confidence/);
  });
});

describe("verdict", () => {
  const interval = (median: number, low: number, high: number) => ({ median, low, high });

  test("fails only when the interval's low end exceeds baseline x (1 + tolerance)", () => {
    expect(judge(interval(1.3, 1.21, 1.4), 1, 0.2)).toMatchObject({ verdict: "regression", limit: 1.2 });
    expect(judge(interval(1.3, 1.19, 1.4), 1, 0.2).verdict).toBe("pass");
    expect(judge(interval(1.2, 1.2, 1.2), 1, 0.2).verdict).toBe("pass"); // on the limit: not beyond it
    expect(judge(interval(5, 4, 6), 1, 0.2).verdict).toBe("regression");
  });

  test("a ~1.5x slower kernel with a typical interval fails at the default tolerance", () => {
    const baseline = 1.1;
    expect(judge(interval(1.5 * baseline, 1.45 * baseline, 1.55 * baseline), baseline, DEFAULT_TOLERANCE).verdict)
      .toBe("regression");
  });

  test("no baseline: its own verdict, no limit", () => {
    expect(judge(interval(9, 8, 10), undefined, 0.2)).toEqual({ verdict: "no-baseline", faster: false });
  });

  test("faster flags an interval wholly below baseline / (1 + tolerance)", () => {
    expect(judge(interval(0.5, 0.45, 0.55), 1, 0.2)).toMatchObject({ verdict: "pass", faster: true });
    expect(judge(interval(0.9, 0.85, 0.95), 1, 0.2).faster).toBe(false);
  });

  test("a negative or non-finite tolerance is rejected", () => {
    expect(() => judge(interval(1, 1, 1), 1, -0.1)).toThrow(/tolerance/);
    expect(() => judge(interval(1, 1, 1), 1, NaN)).toThrow(/tolerance/);
  });
});

describe("baseline file", () => {
  const info = { description: "llvmpipe (LLVM 15.0.6, 256 bits)", vendor: "65541", device: "0" };
  const record = (workload: string, ratios: Record<string, number>) => ({
    workload,
    recorded: "2026-01-01T00:00:00.000Z",
    deno: "2.9.6",
    ratios: Object.fromEntries(
      Object.entries(ratios).map(([e, r]) => [e, { forward: { ratio: r, low: r, high: r } }]),
    ),
  });

  test("the key separates GL from Vulkan on the same description, unset from both, and CPUs", () => {
    const gl = adapterKey(info, "gl"), vk = adapterKey(info, "vulkan"), unset = adapterKey(info, undefined);
    expect(new Set([gl, vk, unset]).size).toBe(3);
    expect(gl).toBe("llvmpipe (LLVM 15.0.6, 256 bits) | DENO_WEBGPU_BACKEND=gl");
    expect(unset).toContain("DENO_WEBGPU_BACKEND=unset");
    expect(adapterKey({ description: "", vendor: "v", device: "d" }, "gl")).toContain("vendor v device d");
    expect(adapterKey(info, "gl", "AMD EPYC")).toBe(
      "llvmpipe (LLVM 15.0.6, 256 bits) | DENO_WEBGPU_BACKEND=gl | CPU AMD EPYC",
    );
    expect(adapterKey(info, "gl", "AMD EPYC")).not.toBe(adapterKey(info, "gl", "Intel Xeon"));
  });

  test("lookup finds a ratio, and says why when the adapter, workload or entry is missing", () => {
    const file = mergeBaseline(emptyBaseline(), "A", record("W", { wgsl: 1.5 }));
    expect(lookupBaseline(file, "A", "W", "wgsl", "forward")).toEqual({ ratio: 1.5 });
    expect(lookupBaseline(file, "B", "W", "wgsl", "forward")).toMatchObject({ missing: expect.stringMatching(/"B"/) });
    expect(lookupBaseline(file, "A", "V", "wgsl", "forward")).toMatchObject({
      missing: expect.stringMatching(/workload "W"/),
    });
    expect(lookupBaseline(file, "A", "W", "wgsl", "forwardBackward")).toMatchObject({
      missing: expect.stringMatching(/forward\+backward/),
    });
  });

  test("merge keeps other entries and adapters, but a new workload replaces the record", () => {
    let file = mergeBaseline(emptyBaseline(), "A", record("W", { wgsl: 1.5, "wgsl@tfjs": 2 }));
    file = mergeBaseline(file, "B", record("W", { wgsl: 3 }));
    file = mergeBaseline(file, "A", record("W", { wgsl: 1.6 }));
    expect(lookupBaseline(file, "A", "W", "wgsl", "forward")).toEqual({ ratio: 1.6 });
    expect(lookupBaseline(file, "A", "W", "wgsl@tfjs", "forward")).toEqual({ ratio: 2 });
    expect(lookupBaseline(file, "B", "W", "wgsl", "forward")).toEqual({ ratio: 3 });
    file = mergeBaseline(file, "A", record("V", { wgsl: 1.7 }));
    expect(lookupBaseline(file, "A", "V", "wgsl@tfjs", "forward")).toHaveProperty("missing");
  });

  test("parse round-trips and rejects malformed files with the field named", () => {
    const file = mergeBaseline(emptyBaseline(), "A", record("W", { wgsl: 1.5 }));
    expect(parseBaseline(JSON.stringify(file), "x")).toEqual(file);
    expect(() => parseBaseline("{", "x")).toThrow(/not valid JSON/);
    expect(() => parseBaseline(JSON.stringify({ format: "other", adapters: {} }), "x")).toThrow(/format/);
    const bad = JSON.parse(JSON.stringify(file));
    bad.adapters.A.ratios.wgsl.forward.ratio = -1;
    expect(() => parseBaseline(JSON.stringify(bad), "x")).toThrow(/ratios\["wgsl"\]\.forward\.ratio/);
    bad.adapters.A.ratios.wgsl = { sideways: { ratio: 1 } };
    expect(() => parseBaseline(JSON.stringify(bad), "x")).toThrow(/unknown pass "sideways"/);
  });

  test("the committed ci/baseline.json parses and records the default entries, both passes", async () => {
    const file = await readBaseline(DEFAULT_BASELINE_PATH);
    expect(file.format).toBe(BASELINE_FORMAT);
    expect(Object.keys(file.adapters).length).toBeGreaterThan(0);
    for (const record of Object.values(file.adapters)) {
      for (const entry of DEFAULT_ENTRIES) {
        expect(Object.keys(record.ratios[entry] ?? {}).sort(), entry).toEqual(["forward", "forwardBackward"]);
      }
    }
  });
});

describe("command line", () => {
  test("defaults", () => {
    const o = parseGateArgs([]);
    expect(o).toMatchObject({
      entries: DEFAULT_ENTRIES,
      tolerance: DEFAULT_TOLERANCE,
      workload: GATE_WORKLOAD,
      updateBaseline: false,
      selfTest: false,
      requireBaseline: false,
      clock: "auto",
      retries: 1,
    });
  });

  test("auto clock: CPU time on CPU-emulated adapters, wall time on GPUs", () => {
    expect(isCpuAdapter({ description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: false })).toBe(true);
    expect(isCpuAdapter({ description: "SwiftShader Device", isFallbackAdapter: false })).toBe(true);
    expect(isCpuAdapter({ description: "", isFallbackAdapter: true })).toBe(true);
    expect(isCpuAdapter({ description: "NVIDIA GeForce RTX 4090", isFallbackAdapter: false })).toBe(false);
  });

  test("flags, with separate and inline values", () => {
    const o = parseGateArgs([
      "--entries",
      "a, b",
      "--tolerance=0.3",
      "--workload",
      "small",
      "--rounds",
      "4",
      "--json",
      "out.json",
      "--update-baseline",
    ]);
    expect(o).toMatchObject({ entries: ["a", "b"], tolerance: 0.3, jsonPath: "out.json", updateBaseline: true });
    expect(o.workload).toEqual({ ...SMALL_WORKLOAD, rounds: 4 });
    expect(parseGateArgs(["--update-baseline"]).workload.rounds).toBe(2 * GATE_WORKLOAD.rounds);
    expect(parseGateArgs(["--clock", "wall", "--repetitions", "5"])).toMatchObject({
      clock: "wall",
      workload: { ...GATE_WORKLOAD, repetitions: 5 },
    });
  });

  test("bad values name the flag, what was expected and what was received", () => {
    const bad = (args: string[], pattern: RegExp) => {
      expect(() => parseGateArgs(args)).toThrow(SortPoolArgumentError);
      expect(() => parseGateArgs(args)).toThrow(pattern);
    };
    bad(["--tolerance", "-1"], /--tolerance: expected a number >= 0.*received "-1"/);
    bad(["--rounds", "0"], /--rounds: expected a positive integer, received "0"/);
    bad(["--workload", "huge"], /--workload: expected one of gate, small, received "huge"/);
    bad(["--json"], /--json: expected a value/);
    bad(["--retries", "-1"], /--retries: expected an integer >= 0, received "-1"/);
    bad(["--clock", "sundial"], /--clock: expected one of auto, cpu, wall, received "sundial"/);
    bad(["--fast"], /command line: expected one of --entries.*received "--fast"/);
    bad(["--self-test", "--update-baseline"], /--self-test/);
  });

  test("entries must be WebGPU registry entries with prepareBench", () => {
    const gpu: Implementation = {
      ...referenceImplementation,
      name: "fake@webgpu",
      device: "webgpu",
      prepareBench: () => Promise.reject(new Error("unused")),
    };
    const table = [referenceImplementation, gpu];
    expect(resolveEntries(["fake@webgpu"], table)).toEqual([gpu]);
    expect(resolveEntries(["gpu"], table)).toEqual([gpu]);
    expect(() => resolveEntries(["nope"], table)).toThrow(/--entries: .*fake@webgpu.*received "nope"/);
    expect(() => resolveEntries(["reference"], table)).toThrow(/"reference" \(device cpu, no prepareBench\)/);
  });
});

describe("interleaved timing", () => {
  test("rotation puts every participant in every position once per cycle", () => {
    const orders = [0, 1, 2].map((r) => roundOrder(["a", "b", "c"], r).join(""));
    expect(orders).toEqual(["abc", "bca", "cab"]);
  });

  test("runs warmup, then one sample per participant per round in rotated order", async () => {
    const calls: string[] = [];
    const p = (name: string) => ({ name, run: () => (calls.push(name), Promise.resolve()) });
    const samples = await timeInterleaved([p("a"), p("b")], { rounds: 3, repetitions: 2, warmup: 1 });
    expect(calls.join("")).toBe("ab" + "aabb" + "bbaa" + "aabb");
    expect(samples.get("a")).toHaveLength(3);
    expect(samples.get("b")!.every((t) => t.wall >= 0 && t.cpu >= 0)).toBe(true);
  });

  test("a sample is the fastest of its repetitions: an interrupted call does not count", async () => {
    let call = 0;
    const sometimesSlow = () => new Promise<void>((r) => setTimeout(r, call++ % 3 === 0 ? 60 : 1));
    const s = await timeInterleaved([{ name: "p", run: sometimesSlow }], { rounds: 3, repetitions: 3, warmup: 0 });
    expect(Math.max(...s.get("p")!.map((t) => t.wall))).toBeLessThan(40);
  });

  test("a participant that sleeps longer gets larger samples", async () => {
    const sleep = (ms: number) => () => new Promise<void>((r) => setTimeout(r, ms));
    const s = await timeInterleaved([{ name: "fast", run: sleep(1) }, { name: "slow", run: sleep(25) }], {
      rounds: 3,
      repetitions: 1,
      warmup: 0,
    });
    const wall = (name: string) => median(s.get(name)!.map((t) => t.wall));
    expect(wall("slow")).toBeGreaterThan(wall("fast") + 10);
  });

  test("the CPU clock counts work, not waiting", async () => {
    // Busy until this process has burnt `ms` of CPU (however long that takes on a loaded machine).
    const spin = (ms: number) => () => {
      const end = processCpuMs() + ms;
      while (processCpuMs() < end) { /* busy */ }
      return Promise.resolve();
    };
    const sleep = (ms: number) => () => new Promise<void>((r) => setTimeout(r, ms));
    const s = await timeInterleaved([{ name: "spin", run: spin(30) }, { name: "sleep", run: sleep(30) }], {
      rounds: 3,
      repetitions: 1,
      warmup: 0,
    });
    const cpu = (name: string) => median(s.get(name)!.map((t) => t.cpu));
    const wall = (name: string) => median(s.get(name)!.map((t) => t.wall));
    expect(wall("sleep")).toBeGreaterThanOrEqual(29);
    expect(cpu("sleep")).toBeLessThan(10);
    expect(cpu("spin")).toBeGreaterThanOrEqual(30);
  });
});

describe("evaluation and summary", () => {
  // Synthetic measurements: "same" runs at maxPool's speed, "slow" at 1.5x.
  const rounds = 9;
  const jitter = (i: number) => 1 + 0.02 * Math.sin(i * 2.3);
  const maxPool = Array.from({ length: rounds }, (_, i) => 30 * jitter(i));
  const entry = (factor: number) => {
    const ms = maxPool.map((t, i) => t * factor * jitter(i + 5));
    const ratios = ms.map((t, i) => t / maxPool[i]);
    return { ms, wallMs: ms.map((t) => t + 11), ratios, ratio: bootstrapMedianInterval(ratios) };
  };
  const m: Measurements = {
    workload: { ...SMALL_WORKLOAD, rounds },
    clock: "cpu",
    maxPoolMs: { forward: maxPool, forwardBackward: maxPool },
    maxPoolWallMs: { forward: maxPool, forwardBackward: maxPool },
    entries: {
      same: { forward: entry(1), forwardBackward: entry(1) },
      slow: { forward: entry(1.5), forwardBackward: entry(1) },
    },
    prepareSeconds: 1.5,
  };
  const checks = evaluate(
    m,
    0.2,
    (entry, pass) =>
      entry === "same" && pass === "forwardBackward" ? { missing: "none recorded" } : { ratio: 1, source: "test" },
  );

  test("verdicts per entry and pass", () => {
    const v = Object.fromEntries(checks.map((c) => [`${c.entry} ${c.pass}`, c.verdict]));
    expect(v).toEqual({
      "same forward": "pass",
      "same forwardBackward": "no-baseline",
      "slow forward": "regression",
      "slow forwardBackward": "pass",
    });
  });

  test("the summary fits one screen and shows entry, pass, baseline, measured, interval, verdict", () => {
    const text = formatSummary({
      mode: "gate",
      adapter: "test adapter",
      tolerance: 0.2,
      measurements: m,
      checks,
      ok: false,
      conclusion: "4 checks, 1 regression(s)",
      warnings: ["a long warning ".repeat(20)],
      wallSeconds: 12,
    });
    const lines = text.split("\n");
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(SCREEN_WIDTH);
    expect(text).toMatch(/entry\s+pass\s+baseline\s+measured\s+95% interval\s+limit\s+cpu ms\s+verdict/);
    expect(text).toMatch(/slow\s+forward\s+1\.000\s+1\.[45]\d\d\s+\[1\.\d+, 1\.\d+\]\s+1\.200\s+\d+\.\d\s+REGRESSION/);
    expect(text).toMatch(/same\s+forward\+backward\s+-\s+[01]\.\d{3}\s.*no baseline/);
    expect(text).toContain(`${MAXPOOL} median per call`);
    expect(lines.at(-1)).toMatch(/^FAIL: 4 checks, 1 regression/);
  });

  test("the JSON report carries every round", () => {
    const json = reportJson({
      mode: "gate",
      adapter: "a",
      tolerance: 0.2,
      measurements: m,
      checks,
      ok: false,
      conclusion: "",
      warnings: [],
      wallSeconds: 1,
    }) as { workload: { id: string }; checks: { rounds: unknown[]; baseline: number | null }[] };
    expect(json.workload.id).toBe(workloadId(m.workload, "cpu"));
    expect(json.workload.id).toMatch(/cpu clock$/);
    expect(json.checks).toHaveLength(4);
    expect(json.checks[0].rounds).toHaveLength(rounds);
    expect(json.checks[1].baseline).toBeNull();
  });
});

describe("confirmation by re-measurement", () => {
  const entry = (name: string): GateEntry => ({ name, prepare: () => Promise.reject(new Error("unused")) });
  const [a, b, control] = [entry("a"), entry("b"), entry("control")];
  /** An attempt function replaying scripted verdicts per entry, one script step per measurement. */
  function scripted(script: Record<string, Verdict[]>) {
    const measured: string[][] = [];
    const attempt = (some: readonly GateEntry[]) => {
      measured.push(some.map((e) => e.name));
      const checks = some.flatMap((e) =>
        (["forward", "forwardBackward"] as const).map((pass): Check => {
          const n = measured.filter((m) => m.includes(e.name)).length;
          const verdict = pass === "forward" ? script[e.name][n - 1] : "pass";
          return {
            entry: e.name,
            pass,
            baselineNote: "",
            measured: { median: n, low: n, high: n },
            verdict,
            faster: false,
            entryMs: 0,
            maxPoolMs: 0,
            entryWallMs: 0,
            maxPoolWallMs: 0,
            rounds: [],
            history: [verdict],
          };
        })
      );
      return Promise.resolve({ measurements: {} as Measurements, checks });
    };
    return { attempt, measured };
  }

  test("a regression that disappears on re-measurement passes; one that stays fails", async () => {
    const { attempt, measured } = scripted({ a: ["regression", "pass"], b: ["regression", "regression"] });
    const r = await judgeWithConfirmation([a, b], attempt, { retries: 1 });
    expect(measured).toEqual([["a", "b"], ["a", "b"]]);
    const fwd = (name: string) => r.checks.find((c) => c.entry === name && c.pass === "forward")!;
    expect(fwd("a")).toMatchObject({ verdict: "pass", history: ["regression", "pass"] });
    expect(fwd("b")).toMatchObject({ verdict: "regression", history: ["regression", "regression"] });
    expect(fwd("b").measured.median).toBe(2); // numbers of the last measurement
    expect(r.measurements).toBe(2);
  });

  test("only entries with a failing check are re-measured, with the companions; passes stay as they were", async () => {
    const { attempt, measured } = scripted({
      a: ["pass", "regression"],
      b: ["regression", "regression", "regression"],
      control: ["pass", "regression", "regression"],
    });
    const r = await judgeWithConfirmation([control, a, b], attempt, { retries: 2, companions: [control] });
    expect(measured).toEqual([["control", "a", "b"], ["control", "b"], ["control", "b"]]);
    expect(r.checks.map((c) => `${c.entry} ${c.pass} ${c.verdict}`)).toEqual([
      "control forward pass",
      "control forwardBackward pass",
      "a forward pass",
      "a forwardBackward pass",
      "b forward regression",
      "b forwardBackward pass",
    ]);
    expect(r.checks.find((c) => c.entry === "b" && c.pass === "forward")!.history).toHaveLength(3);
  });

  test("no retries: the first verdict stands; nothing failing: one measurement", async () => {
    const one = scripted({ a: ["regression", "pass"] });
    expect((await judgeWithConfirmation([a], one.attempt, { retries: 0 })).checks[0].verdict).toBe("regression");
    const clean = scripted({ a: ["pass"] });
    expect((await judgeWithConfirmation([a], clean.attempt, { retries: 3 })).measurements).toBe(1);
    await expect(judgeWithConfirmation([a], clean.attempt, { retries: -1 })).rejects.toThrow(/retries/);
  });
});

describe("false_alarm.ts command line", () => {
  test("defaults to 20 runs and passes gate arguments after --", () => {
    expect(parseFalseAlarmArgs([])).toEqual({ runs: 20, jsonPath: undefined, gateArgs: [] });
    expect(parseFalseAlarmArgs(["--runs", "3", "--", "--entries", "wgsl"])).toEqual({
      runs: 3,
      jsonPath: undefined,
      gateArgs: ["--entries", "wgsl"],
    });
  });

  test("rejects bad counts, unknown flags and gate flags it sets itself", () => {
    expect(() => parseFalseAlarmArgs(["--runs", "0"])).toThrow(/--runs: expected a positive integer/);
    expect(() => parseFalseAlarmArgs(["--fast"])).toThrow(/command line/);
    expect(() => parseFalseAlarmArgs(["--", "--update-baseline"])).toThrow(/no --update-baseline/);
  });
});
