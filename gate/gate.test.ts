/**
 * Tests of the gate: the decision rule, confirmation, the command line, entry planning, the base
 * rules (in a throwaway git repository), the report, and the worker processes (on small cases).
 * The self-test, which times real slowed kernels, is in gate/selftest.test.ts.
 */
import { describe, expect, test } from "vitest";
import { parseCli, UsageError } from "../harness/cli.ts";
import type { Comparison } from "./ab.ts";
import { BaseError, isShallow, materializeCommit, resolveBase } from "./base.ts";
import { confirmRegressions } from "./confirm.ts";
import { FALSE_ALARM_CLI, falseAlarmOptions } from "./false_alarm.ts";
import {
  adapterLabel,
  adapterMismatch,
  chooseClock,
  DAWN_WORKLOAD,
  DEFAULT_RETRIES,
  DEFAULT_TOLERANCE,
  engineLabel,
  GATE_CLI,
  gateOptions,
  isCpuAdapter,
  planChecks,
  SetupError,
} from "./gate.ts";
import type { Hello } from "./protocol.ts";
import { formatSummary, type GateReport, reportJson, SCREEN_WIDTH } from "./report.ts";
import { type Check, evaluate, judge } from "./verdict.ts";
import { caseFromSpec, GATE_WORKLOAD, gateCaseSpec, SMALL_WORKLOAD } from "./workload.ts";
import { isDefaultWindow, poolGeometry } from "../src/spec.ts";
import { BENCH_PASSES } from "../harness/measure/passes.ts";
import { GATE_ROOT, GateWorker, type WorkerHello } from "./workers.ts";

const interval = (median: number, low: number, high: number) => ({ median, low, high });

function comparison(entry: string, pass: Comparison["pass"], median: number, low: number, high: number): Comparison {
  return {
    candidate: "working tree",
    entry,
    pass,
    ratio: { median, low, high, mad: 0.01, n: 3, ratios: [low, median, high] },
    candidateMs: 20 * median,
    baseMs: 20,
    candidateWallMs: 30,
    baseWallMs: 30,
    rounds: [{ ratio: median, candidateMs: 20 * median, baseMs: 20, candidateWallMs: 30, baseWallMs: 30 }],
  };
}

describe("decision rule", () => {
  test("a check fails only when the whole interval lies above 1 + tolerance", () => {
    expect(judge(interval(1.2, 1.11, 1.3), 0.1)).toEqual({ verdict: "regression", limit: 1.1, faster: false });
    expect(judge(interval(1.2, 1.09, 1.3), 0.1).verdict).toBe("pass"); // noise widens the interval: lenient
    expect(judge(interval(1.0, 0.98, 1.02), 0).verdict).toBe("pass");
    expect(judge(interval(0.8, 0.78, 0.82), 0.1).faster).toBe(true);
    expect(() => judge(interval(1, 1, 1), -0.1)).toThrow(/tolerance/);
    expect(() => judge(interval(1, 1, 1), NaN)).toThrow(/tolerance/);
  });

  test("evaluate: base failures are not compared, candidate failures are errors", () => {
    const checks = evaluate({
      clock: "cpu",
      comparisons: [comparison("wgsl", "forward", 1.5, 1.4, 1.6)],
      failures: [
        { entry: "wgsl", pass: "forwardBackward", candidate: "working tree", side: "base", error: "prepare: boom" },
        { entry: "x", pass: "forward", candidate: "working tree", side: "candidate", error: "prepare: bang" },
      ],
      prepareSeconds: 0,
      measureSeconds: 0,
    }, 0.1);
    expect(checks.map((c) => [c.entry, c.pass, c.verdict])).toEqual([
      ["wgsl", "forward", "regression"],
      ["wgsl", "forwardBackward", "not-compared"],
      ["x", "forward", "error"],
    ]);
    expect(checks[1].note).toMatch(/base tree failed: prepare: boom/);
  });
});

describe("confirmation by re-measurement", () => {
  const check = (entry: string, verdict: Check["verdict"]): Check => ({
    candidate: "working tree",
    entry,
    pass: "forward",
    verdict,
    limit: 1.1,
    faster: false,
    history: [verdict],
  });

  test("a regression that disappears passes; one that stays fails; only failing checks are re-measured", async () => {
    const asked: string[][] = [];
    const first = [check("a", "regression"), check("b", "regression"), check("c", "pass")];
    const { checks, measurements } = await confirmRegressions(first, 1, (failing) => {
      asked.push(failing.map((c) => c.entry));
      return Promise.resolve([check("a", "pass"), check("b", "regression")]);
    });
    expect(asked).toEqual([["a", "b"]]);
    expect(measurements).toBe(2);
    expect(checks.map((c) => [c.entry, c.verdict, c.history.join(",")])).toEqual([
      ["a", "pass", "regression,pass"],
      ["b", "regression", "regression,regression"],
      ["c", "pass", "pass"],
    ]);
  });

  test("a re-measurement that cannot be made keeps the regression, with a note", async () => {
    const { checks } = await confirmRegressions(
      [check("a", "regression")],
      1,
      () => Promise.resolve([{ ...check("a", "not-compared"), note: "the base tree failed: x" }]),
    );
    expect(checks[0].verdict).toBe("regression");
    expect(checks[0].note).toMatch(/re-measurement failed \(the base tree failed: x\)/);
  });

  test("no retries: the first verdict stands; nothing failing: one measurement", async () => {
    const never = () => Promise.reject(new Error("must not re-measure"));
    expect((await confirmRegressions([check("a", "regression")], 0, never)).checks[0].verdict).toBe("regression");
    expect((await confirmRegressions([check("a", "pass")], 3, never)).measurements).toBe(1);
    await expect(confirmRegressions([], -1, never)).rejects.toThrow(/retries/);
  });
});

describe("command line", () => {
  const parse = (args: string[]) => gateOptions(parseCli(GATE_CLI, args).values);

  test("defaults", () => {
    const o = parse([]);
    expect(o).toMatchObject({
      tolerance: DEFAULT_TOLERANCE,
      retries: DEFAULT_RETRIES,
      clock: "auto",
      selfTest: false,
      slowdown: { kind: "twice" },
    });
    expect(o.workload).toBe(GATE_WORKLOAD);
    expect(o.base).toBeUndefined();
    expect(o.entries).toBeUndefined();
  });

  test("values, separate and inline", () => {
    const o = parse(["--base=HEAD~3", "--entries", "wgsl, wgsl@tfjs", "--tolerance", "0.2", "--workload=small"]);
    expect(o).toMatchObject({ base: "HEAD~3", entries: ["wgsl", "wgsl@tfjs"], tolerance: 0.2 });
    expect(o.workload).toEqual(SMALL_WORKLOAD);
    expect(parse(["--workload", "dawn"]).workload).toBe(DAWN_WORKLOAD);
    expect(parse(["--rounds", "9", "--repetitions", "1"]).workload).toMatchObject({ rounds: 9, repetitions: 1 });
    expect(parse(["--self-test", "--slow-work", "16"]).slowdown).toEqual({ kind: "work", steps: 16 });
    expect(parse(["--base-dir", "."]).baseDir).toBe(".");
  });

  test.each([
    [["--tolerance", "x"], "--tolerance"],
    [["--tolerance", "-1"], "--tolerance"],
    [["--workload", "huge"], "--workload"],
    [["--clock", "gpu"], "--clock"],
    [["--rounds", "1"], "--rounds"],
    [["--retries", "x"], "--retries"],
    [["--base", "a", "--base-dir", "b"], "--base-dir"],
    [["--self-test", "--base", "HEAD"], "--base"],
    [["--slow-work", "4"], "--slow-work"],
    [["--self-test", "--slow-work", "0"], "--slow-work"],
    [["--bogus"], "--bogus"],
  ])("%j is a usage error naming %s", (args, flag) => {
    expect(() => parse(args)).toThrow(UsageError);
    expect(() => parse(args)).toThrow(new RegExp(`^${flag.replace(/-/g, "\\-")}: expected`));
  });

  test("--help lists every flag", () => {
    expect(parseCli(GATE_CLI, ["--help"]).help).toBe(true);
  });

  test("false_alarm.ts: defaults, gate arguments after --, and the flags it sets itself", () => {
    const parse = (args: string[]) => falseAlarmOptions(parseCli(FALSE_ALARM_CLI, args));
    expect(parse([])).toEqual({ runs: 20, expect: "pass", jsonPath: undefined, gateArgs: [] });
    expect(parse(["--runs", "3", "--expect", "fail", "--", "--base", "HEAD~1"])).toEqual({
      runs: 3,
      expect: "fail",
      jsonPath: undefined,
      gateArgs: ["--base", "HEAD~1"],
    });
    expect(() => parse(["--runs", "0"])).toThrow(/^--runs: expected/);
    expect(() => parse(["--expect", "maybe"])).toThrow(/^--expect: expected/);
    expect(() => parse(["--", "--json", "x"])).toThrow(/no --json/);
  });
});

describe("entries and clock", () => {
  const hello = (entries: Hello["entries"], extra: Partial<WorkerHello> = {}): WorkerHello => ({
    tree: "/t",
    entries,
    adapter: { description: "llvmpipe", vendor: "mesa", isFallbackAdapter: false },
    ...extra,
  });
  const current = hello([
    { name: "reference", gated: false, device: "cpu", bench: false },
    { name: "wgsl", gated: true, device: "webgpu", bench: true },
    { name: "wgsl@tfjs", gated: true, device: "webgpu", bench: true },
    { name: "tfjs-topk@webgpu", gated: false, device: "webgpu", bench: true },
  ]);

  test("the registry's gated entries, both passes; an entry the base lacks is not compared", () => {
    const base = hello([{ name: "wgsl", gated: null, device: "webgpu", bench: true }]);
    const plan = planChecks(current, "working tree", base, 0.1);
    expect(plan.pairs).toEqual([{ entry: "wgsl", pass: "forward" }, { entry: "wgsl", pass: "forwardBackward" }]);
    expect(plan.notCompared.map((c) => [c.entry, c.pass, c.verdict])).toEqual([
      ["wgsl@tfjs", "forward", "not-compared"],
      ["wgsl@tfjs", "forwardBackward", "not-compared"],
    ]);
    expect(plan.notCompared[0].note).toMatch(/the base has no entry named wgsl@tfjs/);
    expect(plan.warnings.join()).toMatch(/predates the gated field/);
  });

  test("a base whose registry did not load: every check not compared, with a warning", () => {
    const plan = planChecks(current, "working tree", hello([], { loadError: "importing x failed" }), 0.1);
    expect(plan.pairs).toEqual([]);
    expect(plan.notCompared).toHaveLength(4);
    expect(plan.warnings.join()).toMatch(/did not load: importing x failed/);
  });

  test("--entries names benchable entries; nothing gated is a setup error", () => {
    const plan = planChecks(current, "working tree", current, 0.1, ["tfjs-topk@webgpu"]);
    expect(plan.pairs.map((p) => p.entry)).toEqual(["tfjs-topk@webgpu", "tfjs-topk@webgpu"]);
    expect(() => planChecks(current, "working tree", current, 0.1, ["reference"])).toThrow(/^--entries: expected/);
    const none = hello([{ name: "wgsl", gated: false, device: "webgpu", bench: true }]);
    expect(() => planChecks(none, "working tree", none, 0.1)).toThrow(SetupError);
  });

  test("the gate times the 2x2/2 path: every workload's case is a 2x2 window, stride 2, shared logits", () => {
    for (const w of [GATE_WORKLOAD, SMALL_WORKLOAD, DAWN_WORKLOAD]) {
      for (const pass of BENCH_PASSES) {
        const c = caseFromSpec(gateCaseSpec(w, pass));
        expect(isDefaultWindow(poolGeometry(c.shape, c.padding, c)), `${w.name} ${pass}`).toBe(true);
        expect([c.poolSize, c.strides]).toEqual([[2, 2], [2, 2]]);
        expect(c.logits.length).toBe(c.k);
      }
    }
  });

  test("auto clock: CPU time on CPU-emulated adapters, wall time on GPUs", () => {
    expect(isCpuAdapter({ description: "llvmpipe (LLVM 15.0.6, 256 bits)", isFallbackAdapter: false })).toBe(true);
    expect(isCpuAdapter({ description: "NVIDIA GeForce", isFallbackAdapter: true })).toBe(true);
    const gpu = { description: "AMD Radeon", vendor: "amd", isFallbackAdapter: false };
    expect(chooseClock("auto", gpu)).toBe("wall");
    expect(chooseClock("cpu", gpu)).toBe("cpu");
    expect(isCpuAdapter({ description: "SwiftShader Device (Subzero)", isFallbackAdapter: false })).toBe(true);
  });

  test("the report names the engine and adapter the workers reported from adapter.info", () => {
    const line = "llvmpipe (LLVM 15.0.6, 256 bits) [65541] on wgpu (Deno 2.9.6)";
    const deno = hello([], {
      engine: { name: "deno", implementation: "wgpu (Deno 2.9.6)" },
      adapterLine: line,
      denoWebgpuBackend: "vulkan",
    });
    expect(adapterLabel(deno)).toBe(`${line} (DENO_WEBGPU_BACKEND=vulkan requested)`);
    expect(engineLabel(deno)).toBe("deno");
    const dawnLine = "SwiftShader Device (Subzero) [google] on Dawn (npm webgpu 0.6.2)";
    const dawn = hello([], {
      engine: { name: "dawn", implementation: "Dawn (npm webgpu 0.6.2)" },
      adapterLine: dawnLine,
      denoWebgpuBackend: "gl", // ignored by Dawn: not mentioned
    });
    expect(adapterLabel(dawn)).toBe(dawnLine);
    expect(engineLabel(dawn)).toBe("dawn");
    // A worker of an older gate tree reports neither: the description, said so.
    expect(adapterLabel(current)).toBe("llvmpipe on an engine the worker did not name");
    expect(engineLabel(current)).toBe("unknown");
    expect(adapterMismatch([{ label: "a", hello: dawn }, { label: "b", hello: dawn }])).toEqual([]);
    expect(adapterMismatch([{ label: "a", hello: dawn }, { label: "b", hello: deno }])[0]).toMatch(
      /^the workers timed on different engines or adapters: a: SwiftShader.*; b: llvmpipe/,
    );
  });
});

/** A throwaway repository: commits on main, then a topic branch. */
async function repo(): Promise<{ dir: string; git: (...args: string[]) => Promise<string> }> {
  const dir = await Deno.makeTempDir({ prefix: "sortpool-gate-test-" });
  const git = async (...args: string[]) => {
    const r = await new Deno.Command("git", {
      args: ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
    return new TextDecoder().decode(r.stdout).trim();
  };
  await git("init", "-q", "-b", "main");
  return { dir, git };
}

describe("base commit", () => {
  test("rules: --base, $SORTPOOL_GATE_BASE (zeros ignored), merge-base on a topic branch, HEAD~1 at main's tip", async () => {
    const { dir, git } = await repo();
    try {
      const commit = async (name: string) => {
        await Deno.writeTextFile(`${dir}/${name}.txt`, name);
        await git("add", ".");
        await git("commit", "-q", "-m", name);
        return await git("rev-parse", "HEAD");
      };
      const c1 = await commit("one");
      await expect(resolveBase(dir, undefined, undefined)).rejects.toThrow(BaseError); // no parent
      const c2 = await commit("two");
      const c3 = await commit("three");
      expect(await resolveBase(dir, undefined, undefined)).toMatchObject({ commit: c2, ref: "HEAD~1" });
      expect((await resolveBase(dir, undefined, undefined)).rule).toMatch(/HEAD is on main/);
      expect((await resolveBase(dir, "HEAD~2", undefined)).commit).toBe(c1);
      expect(await resolveBase(dir, undefined, c1)).toMatchObject({ commit: c1, rule: "$SORTPOOL_GATE_BASE" });
      expect((await resolveBase(dir, undefined, "0000000000000000000000000000000000000000")).commit).toBe(c2);
      const unknown = await resolveBase(dir, undefined, "f".repeat(40));
      expect(unknown.commit).toBe(c2);
      expect(unknown.rule).toMatch(/\$SORTPOOL_GATE_BASE=f+ is not a commit here/);
      await git("checkout", "-q", "-b", "topic");
      await commit("four");
      await commit("five");
      const topic = await resolveBase(dir, undefined, undefined);
      expect(topic.commit).toBe(c3);
      expect(topic.rule).toMatch(/merge-base of HEAD and main/);
      await expect(resolveBase(dir, "no-such-ref", undefined)).rejects.toThrow(
        /base "no-such-ref" \(--base\): not a commit/,
      );
      const tree = await materializeCommit(dir, c2);
      try {
        expect(await Deno.readTextFile(`${tree}/two.txt`)).toBe("two");
        await expect(Deno.stat(`${tree}/three.txt`)).rejects.toThrow();
      } finally {
        await Deno.remove(tree, { recursive: true });
      }
      await expect(materializeCommit(dir, "f".repeat(40))).rejects.toThrow(BaseError);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/** Runs git in `dir` (a commit identity given); stdout trimmed; throws with stderr on failure. */
async function gitIn(dir: string, ...args: string[]): Promise<string> {
  const r = await new Deno.Command("git", {
    args: ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout).trim();
}

/**
 * A scratch upstream (main: m1, m2, m3; topic forked at m2: t1, t2) and shallow clones of it over
 * file:// (git honours --depth only for URLs, not plain paths). No network.
 */
async function upstream(): Promise<{ root: string; url: string; ids: Record<string, string> }> {
  const root = await Deno.makeTempDir({ prefix: "sortpool-gate-shallow-" });
  const up = `${root}/upstream`;
  await Deno.mkdir(up);
  await gitIn(up, "init", "-q", "-b", "main");
  const ids: Record<string, string> = {};
  const commit = async (name: string) => {
    await Deno.writeTextFile(`${up}/${name}.txt`, name);
    await gitIn(up, "add", ".");
    await gitIn(up, "commit", "-q", "-m", name);
    ids[name] = await gitIn(up, "rev-parse", "HEAD");
  };
  for (const name of ["m1", "m2"]) await commit(name);
  await gitIn(up, "checkout", "-q", "-b", "topic");
  for (const name of ["t1", "t2"]) await commit(name);
  await gitIn(up, "checkout", "-q", "main");
  await commit("m3");
  return { root, url: `file://${up}`, ids };
}

/** `git clone --depth <depth> --branch <branch>` of `url` into `root/name`, then origin/main at `mainDepth`. */
async function shallowClone(root: string, url: string, name: string, branch: string, depth: number, mainDepth = 1) {
  await gitIn(root, "clone", "-q", "--depth", String(depth), "--branch", branch, url, name);
  const dir = `${root}/${name}`;
  if (branch !== "main") {
    await gitIn(dir, "fetch", "-q", "--depth", String(mainDepth), "origin", "main:refs/remotes/origin/main");
  }
  return dir;
}

describe("base commit in shallow clones", () => {
  test("a --depth 2 topic clone with origin/main at depth 1: deepened, merge-base found, rule says so", async () => {
    const { root, url, ids } = await upstream();
    try {
      const dir = await shallowClone(root, url, "clone", "topic", 2);
      expect(await isShallow(dir)).toBe(true);
      // Inside the clone's depth HEAD and origin/main share no commit: the old fallback measured HEAD~1 = t1.
      await expect(gitIn(dir, "merge-base", "HEAD", "origin/main")).rejects.toThrow();
      const base = await resolveBase(dir, undefined, undefined);
      expect(base.commit).toBe(ids.m2);
      expect(base.rule).toBe(
        "merge-base of HEAD and origin/main (remote main branch); fetched: git fetch --deepen=50 origin",
      );
      // Deepened once; a second run needs no fetch and says nothing about one.
      expect((await resolveBase(dir, undefined, undefined)).rule).toBe(
        "merge-base of HEAD and origin/main (remote main branch)",
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  test("a remote that cannot be fetched from: BaseError (exit 2) saying what to fetch, never HEAD~1", async () => {
    const { root, url } = await upstream();
    try {
      const dir = await shallowClone(root, url, "clone", "topic", 2);
      await gitIn(dir, "remote", "set-url", "origin", `file://${root}/gone`);
      const error = await resolveBase(dir, undefined, undefined).catch((e) => e);
      expect(error).toBeInstanceOf(BaseError);
      expect(error.message).toMatch(
        /^the merge-base of HEAD and origin\/main: the clone is shallow and git fetch --deepen=50 origin failed \(.+\); fetch its history \(git fetch --unshallow origin, /,
      );
      expect(error.message).toContain("--base REF or $SORTPOOL_GATE_BASE");
      // No remote at all: the same stop, naming the missing remote (origin/main kept as a plain ref: m3 is here).
      const m3 = await gitIn(dir, "rev-parse", "origin/main");
      await gitIn(dir, "remote", "remove", "origin");
      await gitIn(dir, "update-ref", "refs/remotes/origin/main", m3);
      const local = await resolveBase(dir, undefined, undefined).catch((e) => e);
      expect(local).toBeInstanceOf(BaseError);
      expect(local.message).toMatch(
        /shallow and no remote is configured to deepen it from; .*git fetch --unshallow REMOTE/,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  test("depth 1 on main: HEAD's parent is fetched; $SORTPOOL_GATE_BASE past the depth is fetched, not skipped", async () => {
    const { root, url, ids } = await upstream();
    try {
      const dir = await shallowClone(root, url, "main1", "main", 1);
      const parent = await resolveBase(dir, undefined, undefined);
      expect(parent.commit).toBe(ids.m2);
      expect(parent.rule).toBe(
        "HEAD is on origin/main: its parent; fetched: git fetch --deepen=50 origin",
      );
      const other = await shallowClone(root, url, "env", "topic", 1);
      const fromEnv = await resolveBase(other, undefined, ids.m1);
      expect(fromEnv.commit).toBe(ids.m1);
      // fetched by its id (shallow: that commit only), not by deepening
      expect(fromEnv.rule).toBe(`$SORTPOOL_GATE_BASE; fetched: git fetch --depth=1 origin ${ids.m1}`);
      // A commit that is in no history (a force push's "before") is still skipped, after the clone is complete;
      // the rule lists every fetch made on the way.
      const gone = await resolveBase(other, undefined, "e".repeat(40));
      expect(gone.commit).toBe(ids.m2);
      expect(gone.rule).toMatch(
        /^merge-base of HEAD and origin\/main \(remote main branch\); \$SORTPOOL_GATE_BASE=e+ is not a commit here nor on the remote; fetched: git fetch --deepen=50 origin$/,
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  test("$SORTPOOL_GATE_BASE on the remote but not fetched (single-branch clone): fetched by id and used", async () => {
    const { root, url, ids } = await upstream();
    try {
      // topic only, depth 1: m3 (main's tip) is in no fetched history, so no deepening can reach it
      await gitIn(root, "clone", "-q", "--depth", "1", "--branch", "topic", "--single-branch", url, "single");
      const dir = `${root}/single`;
      const base = await resolveBase(dir, undefined, ids.m3);
      expect(base).toMatchObject({ commit: ids.m3, ref: ids.m3 });
      expect(base.rule).toBe(`$SORTPOOL_GATE_BASE; fetched: git fetch --depth=1 origin ${ids.m3}`);
      // A remote that cannot be reached: exit 2 saying what to fetch, never the next rule
      const other = `${root}/single2`;
      await gitIn(root, "clone", "-q", "--depth", "1", "--branch", "topic", "--single-branch", url, "single2");
      await gitIn(other, "remote", "set-url", "origin", `file://${root}/gone`);
      const error = await resolveBase(other, undefined, ids.m3).catch((e) => e);
      expect(error).toBeInstanceOf(BaseError);
      expect(error.message).toContain(`$SORTPOOL_GATE_BASE=${ids.m3}: not a commit in this clone (a shallow one)`);
      expect(error.message).toContain(`fetch it (git fetch origin ${ids.m3}, or git fetch --unshallow origin)`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  test("--base in a shallow clone: a commit id is fetched, a ref past the depth deepened, else exit 2 saying what to fetch", async () => {
    const { root, url, ids } = await upstream();
    try {
      const topic = await shallowClone(root, url, "topic1", "topic", 1);
      const byId = await resolveBase(topic, ids.m1, undefined);
      expect(byId).toMatchObject({ commit: ids.m1, rule: `--base; fetched: git fetch --depth=1 origin ${ids.m1}` });
      const main1 = await shallowClone(root, url, "main1", "main", 1);
      const byRef = await resolveBase(main1, "origin/main~1", undefined);
      expect(byRef).toMatchObject({ commit: ids.m2, rule: "--base; fetched: git fetch --deepen=50 origin" });
      const cut = await shallowClone(root, url, "cut", "main", 1);
      await gitIn(cut, "remote", "set-url", "origin", `file://${root}/gone`);
      const error = await resolveBase(cut, "HEAD~1", undefined).catch((e) => e);
      expect(error).toBeInstanceOf(BaseError);
      expect(error.message).toMatch(
        /^base "HEAD~1" \(--base\): the clone is shallow and git fetch --deepen=50 origin failed \(.+\); fetch its history \(git fetch --unshallow origin, /,
      );
      const byMissingId = await resolveBase(cut, ids.m1, undefined).catch((e) => e);
      expect(byMissingId).toBeInstanceOf(BaseError);
      expect(byMissingId.message).toContain(`fetch it (git fetch origin ${ids.m1}, or git fetch --unshallow origin)`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  test("a remote not named origin: its main branch is found through the branch's configured remote", async () => {
    const { root, url, ids } = await upstream();
    try {
      await gitIn(
        root,
        "clone",
        "-q",
        "-o",
        "upstream",
        "--depth",
        "2",
        "--branch",
        "topic",
        "--single-branch",
        url,
        "up",
      );
      const dir = `${root}/up`;
      await gitIn(dir, "fetch", "-q", "--depth", "1", "upstream", "main:refs/remotes/upstream/main");
      const base = await resolveBase(dir, undefined, undefined);
      expect(base.commit).toBe(ids.m2);
      expect(base.rule).toBe(
        "merge-base of HEAD and upstream/main (remote main branch); fetched: git fetch --deepen=50 upstream",
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });

  test("histories that share no commit (not shallow): HEAD~1, and the rule says why", async () => {
    const { dir, git } = await repo();
    try {
      for (const name of ["one", "two"]) {
        await Deno.writeTextFile(`${dir}/${name}.txt`, name);
        await git("add", ".");
        await git("commit", "-q", "-m", name);
      }
      await git("checkout", "-q", "--orphan", "other");
      for (const name of ["three", "four"]) {
        await Deno.writeTextFile(`${dir}/${name}.txt`, name);
        await git("add", ".");
        await git("commit", "-q", "-m", name);
      }
      const base = await resolveBase(dir, undefined, undefined);
      expect(base.commit).toBe(await git("rev-parse", "HEAD~1"));
      expect(base.rule).toBe("HEAD shares no history with main: HEAD's parent");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

describe("report", () => {
  const checks: Check[] = [
    {
      candidate: "working tree",
      entry: "wgsl",
      pass: "forward",
      verdict: "regression",
      comparison: comparison("wgsl", "forward", 1.5, 1.42, 1.58),
      limit: 1.1,
      faster: false,
      history: ["regression", "regression"],
    },
    {
      candidate: "working tree",
      entry: "wgsl@tfjs",
      pass: "forward",
      verdict: "not-compared",
      note: "the base has no entry named wgsl@tfjs (added since the base?)",
      limit: 1.1,
      faster: false,
      history: ["not-compared"],
    },
  ];
  const report: GateReport = {
    mode: "gate",
    ok: false,
    exitCode: 1,
    conclusion: "2 checks: 1 regression(s) (wgsl forward), 1 not compared",
    base: { label: 'commit 0123456789 (HEAD~1; HEAD is on main: its parent) "a subject"', dir: "/tmp/x" },
    engine: "dawn",
    adapter: "SwiftShader Device (Subzero) [google, swiftshader] on Dawn (npm webgpu 0.6.2)",
    clock: "cpu",
    tolerance: 0.1,
    workload: GATE_WORKLOAD,
    checks,
    measurements: 2,
    warnings: [],
    wallSeconds: 41,
  };

  test("the summary shows each check's ratio, interval and verdict, notes, and fits the screen", () => {
    const text = formatSummary(report);
    expect(text).toMatch(/wgsl +forward +1\.500 +\[1\.420, 1\.580\] .* REGRESSION \(2 of 2 measurements\)/);
    expect(text).toMatch(/wgsl@tfjs +forward .* not compared/);
    expect(text).toMatch(/note: working tree wgsl@tfjs forward: the base has no entry named wgsl@tfjs/);
    expect(text).toMatch(/^FAIL: 2 checks: 1 regression/m);
    expect(text).toContain("engine dawn; adapter SwiftShader Device (Subzero) [google, swiftshader] on Dawn");
    for (const line of text.split("\n")) expect(line.length, line).toBeLessThanOrEqual(SCREEN_WIDTH);
  });

  test("the JSON carries every round and the verdict history", () => {
    const json = JSON.parse(JSON.stringify(reportJson(report)));
    expect(json.exitCode).toBe(1);
    expect(json.checks[0].rounds).toHaveLength(1);
    expect(json.checks[0].history).toEqual(["regression", "regression"]);
    expect(json.checks[1].ratio).toBeNull();
    expect([json.engine, json.adapter]).toEqual([report.engine, report.adapter]);
  });
});

describe("worker processes", () => {
  test("a worker loads its tree's registry, reports the gated entries, and times one entry on a small case", async () => {
    const w = await GateWorker.start("test", GATE_ROOT);
    try {
      expect(w.hello.loadError).toBeUndefined();
      expect(w.hello.adapter).not.toBeNull();
      // The worker names its engine and adapter from adapter.info; the engine is the gate's (inherited).
      expect(w.hello.engine?.name).toBe(Deno.env.get("SORTPOOL_ENGINE") || "deno");
      expect(w.hello.adapterLine).toContain(w.hello.adapter!.description);
      expect(adapterLabel(w.hello)).toContain(` on ${w.hello.engine!.implementation}`);
      const gated = w.hello.entries.filter((e) => e.gated === true).map((e) => e.name);
      expect(gated).toContain("wgsl");
      const spec = { shape: [1, 9, 9, 8] as const, k: 3, padding: "same" as const, seed: 1 };
      await w.request({ op: "prepare", handle: "h", entry: "wgsl", case: spec });
      const readings = await w.request({ op: "measure", handle: "h", pass: "forward", repetitions: 2 });
      expect(readings!.wall).toBeGreaterThan(0);
      expect(readings!.cpu).toBeGreaterThanOrEqual(0);
      await w.request({ op: "dispose", handle: "h" });
      await expect(w.request({ op: "measure", handle: "h", pass: "forward", repetitions: 1 })).rejects.toThrow(
        /no prepared handle "h"/,
      );
      await expect(w.request({ op: "prepare", handle: "g", entry: "no-such", case: spec })).rejects.toThrow(
        /no entry "no-such"/,
      );
    } finally {
      await w.close();
    }
  });

  test("a tree whose registry does not load says why instead of failing", async () => {
    const tree = await Deno.makeTempDir({ prefix: "sortpool-gate-broken-" });
    try {
      await Deno.mkdir(`${tree}/src`);
      await Deno.writeTextFile(
        `${tree}/src/registry.ts`,
        'import "./missing.ts";\nexport const implementations = [];\n',
      );
      const w = await GateWorker.start("broken", tree);
      try {
        expect(w.hello.entries).toEqual([]);
        expect(w.hello.loadError).toMatch(/importing .*src\/registry\.ts failed/);
      } finally {
        await w.close();
      }
    } finally {
      await Deno.remove(tree, { recursive: true });
    }
  });
});
