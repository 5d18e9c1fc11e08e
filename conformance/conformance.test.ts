/**
 * Tests of the conformance kit: the two example ports pass it; deliberately wrong ports (reversed
 * weight order, ties broken by the higher cell, dx assigned instead of summed under overlapping
 * windows, per-channel weights read at the wrong offset, a port of the 2x2 layer only, a crash
 * after the first answer, a hang, non-JSON output, a wrong id, a wrong length, no error for a bad
 * input, an error for a good one) fail it with the report the kit promises; `--windows 2x2` and
 * `--logits shared` skip (and count) what a port does not support; the command line's exit codes.
 *
 * The runs are in process (runKit) except the exit-code tests, which start `deno run
 * conformance/main.ts` as a user would.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../harness/cli.ts";
import { type KitOptions, type KitReport, matchesFilter, runKit } from "./run.ts";
import { livePortCount } from "./port.ts";
import {
  badInputCases,
  DEFAULT_CASES_PER_CLASS,
  DEFAULT_SEED,
  emptyInputCases,
  generatedCases,
  goldenCases,
  LOGITS_RANGE_HINT,
} from "./cases.ts";
import { expectedFor } from "./compare.ts";
import { caseWindows, membershipsOf, whereInput } from "../testkit/mod.ts";
import { validateCase } from "../src/validate.ts";
import { encodeRequest, invisibleNote, parseAnswerLine, visible } from "./protocol.ts";
import { checkJsonPath, CONFORMANCE_CLI, splitCommandLine } from "./main.ts";

const PYTHON = "/usr/bin/python3";
const NUMPY_PORT = [PYTHON, "conformance/ports/numpy_port.py"];
const JS_PORT = ["node", "conformance/ports/js_port.mjs"];

interface Run {
  report: KitReport;
  out: string[];
  text: string;
}

async function kit(command: string[], options: Partial<KitOptions> = {}): Promise<Run> {
  const out: string[] = [];
  const report = await runKit({
    command,
    precision: "float32",
    weightsOrder: "largest-first",
    timeoutMs: 10_000,
    seed: DEFAULT_SEED,
    casesPerClass: DEFAULT_CASES_PER_CLASS,
    filter: [],
    show: 20,
    out: (line) => out.push(line),
    err: () => {},
    ...options,
  });
  return { report, out, text: out.join("\n") };
}

/** A port in a few lines of Node: `answer(request)` returns the object to print for each request line. */
function nodePort(answer: string): string[] {
  return [
    "node",
    "-e",
    `require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
       const req = JSON.parse(line);
       process.stdout.write(JSON.stringify((${answer})(req)) + "\\n");
     });`,
  ];
}

function expectEnded(run: Run): void {
  expect(livePortCount()).toBe(0);
  expect(run.out.at(-1)).toMatch(/^\d+ passed, \d+ failed$/);
}

describe("example ports", () => {
  it("the NumPy port passes every case (float32)", async () => {
    const run = await kit(NUMPY_PORT);
    expect(run.report.failed, run.text.slice(0, 4000)).toBe(0);
    expect(run.report.passed).toBe(run.report.outcomes.length);
    // every category ran, generated classes with the default count
    expect(run.report.categories.map((c) => c.name)).toEqual([
      "golden",
      "distinct",
      "padded-borders",
      "ties",
      "near-ties",
      "magnitudes",
      "signed-zeros",
      "nonfinite-x",
      "nonfinite-dy",
      "logits-range",
      "logits-underflow",
      "logits-nonfinite",
      "general-mixed",
      "overlap",
      "gaps",
      "asymmetric",
      "same-split",
      "per-channel",
      "bad-input",
      "empty-input",
    ]);
    // Nothing is skipped by default: every case needing general windows or per-channel logits ran.
    expect(run.report.skipped).toEqual([]);
    expect(run.report.outcomes.filter((c) => c.category === "overlap")).toHaveLength(2 * DEFAULT_CASES_PER_CLASS);
    expect(run.out.at(-1)).toBe(`${run.report.passed} passed, 0 failed`);
    expect(run.report.portExit).toBe("exited with code 0");
    expectEnded(run);
  });

  it("the plain-JavaScript port passes every case (float32)", async () => {
    const run = await kit(JS_PORT);
    expect(run.report.failed, run.text.slice(0, 4000)).toBe(0);
    expect(run.report.passed).toBeGreaterThan(500);
    expectEnded(run);
  });

  it("both ports pass in float64, and a float32 port fails the float64 kit", async () => {
    const js = await kit([...JS_PORT, "--precision", "float64"], { precision: "float64", casesPerClass: 20 });
    expect(js.report.failed, js.text.slice(0, 4000)).toBe(0);
    const np = await kit([...NUMPY_PORT, "--precision", "float64"], { precision: "float64", casesPerClass: 20 });
    expect(np.report.failed, np.text.slice(0, 4000)).toBe(0);
    const f32 = await kit(JS_PORT, { precision: "float64", casesPerClass: 20 });
    expect(f32.report.categories.find((c) => c.name === "magnitudes")!.failed).toBeGreaterThan(0);
    expectEnded(f32);
  });

  it("--weights-order smallest-first accepts a port in the original TF order (and the default rejects it)", async () => {
    const original = [...NUMPY_PORT, "--weights-order", "smallest-first"];
    const accepted = await kit(original, { weightsOrder: "smallest-first", casesPerClass: 20 });
    expect(accepted.report.failed, accepted.text.slice(0, 4000)).toBe(0);
    const js = await kit([...JS_PORT, "--weights-order", "smallest-first"], {
      weightsOrder: "smallest-first",
      casesPerClass: 10,
    });
    expect(js.report.failed, js.text.slice(0, 4000)).toBe(0);
  });
});

describe("wrong ports fail with a report", () => {
  it("reversed weight order: forward, dx and dLogits failures with location, values and a replay line", async () => {
    const run = await kit([...NUMPY_PORT, "--weights-order", "smallest-first"], { casesPerClass: 20 });
    expect(run.report.failed).toBeGreaterThan(100);
    expect(run.report.portFailure).toBeNull();
    const fails = run.report.outcomes.filter((c) => c.status === "fail");
    const whats = new Set(fails.flatMap((c) => c.problems.map((p) => p.what)));
    expect([...whats].sort()).toEqual(["dLogits", "dx", "forward"]);
    // k = 1 has one weight, and bad inputs are rejected either way: they still pass.
    expect(run.report.categories.find((c) => c.name === "bad-input")!.failed).toBe(0);
    expect(fails.some((c) => /k 1\b/.test(c.description))).toBe(false);
    // The printed report of the first failing case: name, what, element and location, values, replay line.
    const first = fails[0];
    const at = run.out.indexOf(`FAIL ${first.name}   [${first.description}]`);
    expect(at).toBeGreaterThanOrEqual(0);
    const block = run.out.slice(at, at + 12).join("\n");
    expect(block).toMatch(
      / {2}forward: first difference at y\[\d+\], batch \d+, row \d+, column \d+, channel \d+ of y/,
    );
    expect(block).toMatch(
      /expected -?[\d.e+-]+\n\s+received -?[\d.e+-]+ \(tolerance [\d.e+-]+, sign of zero included\)/,
    );
    const replay = run.out.slice(at).find((l) => l.startsWith("  replay: "))!;
    const request = JSON.parse(replay.slice("  replay: ".length));
    expect(request.id).toBe(first.name);
    expect(request.logits.length).toBe(request.k);
    // dLogits failures name the rank; dx failures the input element's coordinates, cell and spec rank.
    expect(run.text).toMatch(/dLogits: first difference at dLogits\[\d\], rank \d: the logit of the weight of the/);
    expect(run.text).toMatch(
      /dx: first difference at dx\[\d+\], batch \d+, row \d+, column \d+, channel \d+ of x: cell \d/,
    );
    expect(run.text).toMatch(/spec rank \d/);
    expect(run.out.at(-1)).toBe(`${run.report.passed} passed, ${run.report.failed} failed`);
    expectEnded(run);
  });

  it("ties broken by the higher cell number: fails on ties, signed zeros and the golden tie cases only", async () => {
    const run = await kit([...JS_PORT, "--plant", "ties-high-index"], { casesPerClass: 20 });
    const failed = (name: string) => run.report.categories.find((c) => c.name === name)!.failed;
    expect(failed("ties")).toBeGreaterThan(0);
    expect(failed("signed-zeros")).toBeGreaterThan(0);
    expect(failed("golden")).toBeGreaterThan(0);
    expect(run.report.outcomes.some((c) => c.status === "fail" && c.name.startsWith("golden/ties-k"))).toBe(true);
    // distinct values never tie: the planted bug cannot show there
    expect(failed("distinct")).toBe(0);
    expect(failed("near-ties")).toBe(0);
    expectEnded(run);
  });

  it("a port that crashes after its first answer: reported with its stderr, rest not run, well within 2 minutes", async () => {
    const t0 = performance.now();
    const run = await kit([...JS_PORT, "--plant", "crash-after-first"]);
    expect(performance.now() - t0).toBeLessThan(120_000);
    const pf = run.report.portFailure!;
    expect(pf.reason).toMatch(/^the port exited with code 1 before answering$/);
    expect(pf.name).toBe(run.report.outcomes[1].name);
    expect(pf.stderrTail).toContain("planted crash after the first answer");
    expect(run.report.passed).toBe(1);
    expect(run.report.notRun).toBe(run.report.outcomes.length - 2);
    expect(run.report.failed).toBe(run.report.outcomes.length - 1);
    expect(run.text).toContain(`PORT FAILURE during ${pf.name}: the port exited with code 1 before answering`);
    expect(run.text).toContain("the port's stderr (last lines):");
    expect(run.text).toMatch(/cases not run: the port stopped answering/);
    expectEnded(run);
  });

  it("a port that hangs: the per-request timeout ends it", async () => {
    const t0 = performance.now();
    const run = await kit([...JS_PORT, "--plant", "hang-after-first"], { timeoutMs: 1000, casesPerClass: 0 });
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(run.report.portFailure!.reason).toMatch(/^no answer within 1000 ms \(--timeout-ms\)/);
    expect(run.report.portFailure!.stderrTail).toContain("planted hang");
    expect(run.report.portExit).toBe("was killed by the kit (SIGKILL)");
    expectEnded(run);
  });

  it("a port that prints something that is not JSON", async () => {
    const run = await kit([...JS_PORT, "--plant", "non-json-after-first"], { casesPerClass: 0 });
    expect(run.report.portFailure!.reason).toMatch(
      /not a JSON object .*"debug: got a request" \(logs belong on stderr\)/,
    );
    expectEnded(run);
  });

  it("bare NaN tokens get a hint; a wrong id and a wrong length are reported", async () => {
    const bare = await kit(
      [
        "node",
        "-e",
        'process.stdin.once("data", () => process.stdout.write("{\\"id\\": \\"x\\", \\"y\\": [NaN]}\\n"))',
      ],
      { casesPerClass: 0 },
    );
    expect(bare.report.portFailure!.reason).toMatch(/bare NaN \/ Infinity tokens are not JSON/);
    const wrongId = await kit(nodePort(`() => ({ id: "something-else", shape: [1, 1, 1, 1], y: [0] })`), {
      casesPerClass: 0,
    });
    expect(wrongId.report.portFailure!.reason).toMatch(/the answer's id is "something-else", expected "golden\//);
    const short = await kit(nodePort(`(r) => ({ id: r.id, shape: [1, 1, 1, 1], y: [1], dx: [], dLogits: [] })`), {
      casesPerClass: 0,
      filter: ["golden/hand-1x2x2x1-k2/"],
    });
    // A wrong length is a failed case, not a broken protocol: the run goes on.
    expect(short.report.portFailure).toBeNull();
    expect(short.report.outcomes.map((c) => c.status)).toEqual(["fail", "fail"]);
    expect(short.report.outcomes[0].problems[0]).toMatchObject({ what: "forward", expected: "3.5", received: "1" });
    expect(short.report.outcomes[1].problems.map((p) => [p.what, p.expected, p.received])).toEqual([
      ["answer", '"dx" of length 4', "length 0"],
      ["answer", '"dLogits" of length 2', "length 0"],
    ]);
    expectEnded(short);
  });

  it("no error for a bad input, and an error for a valid one, are failures naming the expected message", async () => {
    const lenient = await kit(nodePort(`(r) => ({ id: r.id, shape: [1, 1, 1, 1], y: [0] })`), {
      casesPerClass: 0,
      filter: ["bad-input/k=5#0/forward"],
    });
    expect(lenient.report.outcomes[0].problems[0]).toMatchObject({
      what: "error expected",
      expected: "an error like: sort_pool2d: k: expected an integer in 1..4, received 5",
    });
    const strict = await kit(nodePort(`(r) => ({ id: r.id, error: "no thanks" })`), {
      casesPerClass: 0,
      filter: ["golden/hand-1x2x2x1-k2/forward"],
    });
    expect(strict.report.outcomes[0].problems[0]).toMatchObject({
      what: "unexpected error",
      received: 'error "no thanks"',
    });
    expect(strict.out.at(-1)).toBe("0 passed, 1 failed");
  });
});

describe("general windows and per-channel logits", () => {
  it("dx assigned instead of summed under overlap: fails overlap only, listing every window containing the cell", async () => {
    const run = await kit([...JS_PORT, "--plant", "overlap-assign"], {
      casesPerClass: 10,
      filter: ["overlap", "gaps", "distinct", "golden/pool3x3s1-*"],
    });
    const failed = (name: string) => run.report.categories.find((c) => c.name === name)!.failed;
    expect(failed("overlap")).toBeGreaterThan(0);
    expect(failed("golden")).toBeGreaterThan(0);
    // Windows that never share a cell cannot show the bug.
    expect(failed("distinct")).toBe(0);
    expect(failed("gaps")).toBe(0);
    const problems = run.report.outcomes.filter((c) => c.status === "fail").flatMap((c) => c.problems);
    expect(new Set(problems.map((p) => p.what))).toEqual(new Set(["dx"]));
    // The first failing dx names the cell and each window containing it, with its cell, rank and term there.
    expect(run.text).toMatch(
      new RegExp(
        String.raw`dx: first difference at dx\[\d+\], batch \d+, row \d+, column \d+, channel \d+ of x: in \d+ ` +
          String.raw`overlapping windows, kept by \d+; its dx is the sum of w\[r\]·dy over those, in this order, ` +
          String.raw`starting from the first term \(SPEC §5\): y row \d+, column \d+: cell \d+, spec rank \d+, ` +
          String.raw`kept \(rank < k = \d+\), w\[\d+\]·dy = -?[\d.e+-]+; y row \d+, column \d+: cell \d+`,
      ),
    );
    expect(run.report.hints.map((h) => h.category)).toEqual(["overlap"]);
    expect(run.text).toContain("hint for the overlap failures: under overlapping windows a cell's dx is the SUM");
    expectEnded(run);
  });

  it("channel c's weights read at offset c instead of c·k: fails per-channel cases only, naming channel and rank", async () => {
    const run = await kit([...JS_PORT, "--plant", "per-channel-index"], {
      casesPerClass: 10,
      filter: ["per-channel", "distinct", "overlap", "golden/per-channel-*", "golden/distinct-k2-*"],
    });
    const failed = (name: string) => run.report.categories.find((c) => c.name === name)!.failed;
    expect(failed("per-channel")).toBeGreaterThan(0);
    expect(failed("distinct")).toBe(0);
    expect(failed("overlap")).toBe(0);
    const fails = run.report.outcomes.filter((c) => c.status === "fail");
    expect(fails.some((c) => c.name.startsWith("golden/per-channel-"))).toBe(true);
    expect(fails.every((c) => /per-channel logits/.test(c.description) || c.name.startsWith("golden/per-channel-")))
      .toBe(true);
    expect(run.text).toMatch(
      /dLogits: first difference at dLogits\[\d+\], channel \d+, rank \d: the logit of the weight of channel \d+'s /,
    );
    expect(run.report.hints.map((h) => h.category)).toEqual(["per-channel"]);
    expectEnded(run);
  });

  it("--windows 2x2 --logits shared: a port of the 2x2 layer passes, the rest is skipped and counted, not failed", async () => {
    const articleOnly = [...JS_PORT, "--plant", "2x2-only"];
    const supports = { windows: "2x2", logits: "shared" } as const;
    const run = await kit(articleOnly, { casesPerClass: 10, supports });
    expect(run.report.failed, run.text.slice(0, 3000)).toBe(0);
    const cat = (name: string) => run.report.categories.find((c) => c.name === name)!;
    for (const name of ["overlap", "gaps", "asymmetric", "same-split", "per-channel"]) {
      expect(cat(name)).toMatchObject({ cases: 0, passed: 0, failed: 0, skipped: 20 });
    }
    expect(cat("golden").skipped).toBeGreaterThan(0);
    expect(cat("golden").passed).toBe(98); // the 49 default-window cases with shared logits
    expect(cat("bad-input").skipped).toBeGreaterThan(0);
    expect(cat("distinct").skipped).toBe(0);
    // Printed: one line per flag with its count per category, and the total before the last line.
    const reasons = run.report.skipped.map((s) => s.reason);
    expect(reasons).toEqual([
      "--windows 2x2: a poolSize or strides other than 2x2/2",
      "--logits shared: per-channel logits (C·k)",
    ]);
    for (const s of run.report.skipped) {
      const where = Object.entries(s.byCategory).map(([c, n]) => `${c} ${n}`).join(", ");
      expect(run.out).toContain(`skipped ${s.cases} cases the port does not support (${s.reason}): ${where}`);
    }
    const total = run.report.categories.reduce((a, c) => a + c.skipped, 0);
    expect(run.out.at(-2)).toBe(`(${total} cases skipped as unsupported, not counted below: see "skipped" above)`);
    expect(run.out.at(-1)).toBe(`${run.report.passed} passed, 0 failed`);
    // Without the flags the same port fails every general category: the flags are what made it pass.
    const all = await kit(articleOnly, { casesPerClass: 5, filter: ["overlap", "per-channel", "golden/pool3x3s2-*"] });
    expect(all.report.skipped).toEqual([]);
    for (const name of ["golden", "overlap", "per-channel"]) {
      expect(all.report.categories.find((c) => c.name === name)!.failed, name).toBeGreaterThan(0);
    }
    expectEnded(all);
  });

  it("bad poolSize, strides, k past kh·kw, logits not k or C·k: src/validate.ts's errors; the example port rejects all", async () => {
    const general = badInputCases("float32").filter((c) => c.needs.windows || /per-channel/.test(c.name));
    const byName = new Map(general.map((c) => [c.name, c.request]));
    const message = (name: string) => {
      const e = expectedFor(byName.get(name)!, "float32");
      return e.kind === "error" ? e.message : `no error (${e.kind})`;
    };
    expect(message("bad-input/poolSize=5x3#2/forward")).toBe(
      "sort_pool2d: poolSize[0]: expected an integer in 1..4, received 5",
    );
    expect(message("bad-input/strides=0x2#2/gradient")).toBe(
      "sort_pool2d: strides[0]: expected an integer in 1..4, received 0",
    );
    expect(message("bad-input/poolSize-string#2/forward")).toMatch(/^sort_pool2d: poolSize: expected a pair/);
    expect(message("bad-input/k=10-on-3x3#2/forward")).toMatch(/^sort_pool2d: k: expected an integer in 1\.\.9\b/);
    expect(message("bad-input/k=3-on-1x2#2/forward")).toMatch(/^sort_pool2d: k: expected an integer in 1\.\.2\b/);
    expect(message("bad-input/valid-smaller-than-window#2/forward")).toMatch(
      /^sort_pool2d: shape: expected height >= 3/,
    );
    expect(message("bad-input/logits-per-channel-short#3/forward")).toBe(
      "sort_pool2d: logits: expected length k = 2 or C·k = 3·2 = 6, received length 4",
    );
    expect(message("bad-input/dy-for-other-strides#2/gradient")).toBe(
      "sort_pool2d: dy: expected length of the output [1, 5, 6, 2] = 60, received length 18",
    );
    // Every general bad input is an error, and each is a request a port can parse (JSON).
    for (const c of general) expect(expectedFor(c.request, "float32").kind, c.name).toBe("error");
    const js = await kit(JS_PORT, { casesPerClass: 0, filter: general.map((c) => c.name) });
    expect(js.report.outcomes).toHaveLength(general.length);
    expect(js.report.failed, js.text).toBe(0);
  });

  it("locates a dx element in every window containing it (src/spec.ts windowsContaining)", () => {
    // 3x3 stride 1 "valid" on 5x5: the centre cell (2, 2) lies in all 9 windows, at cells 8 (window (0, 0)) .. 0.
    const c = validateCase({
      x: Float64Array.from({ length: 25 }, (_, i) => i),
      shape: [1, 5, 5, 1],
      logits: [0],
      k: 1,
      padding: "valid",
      poolSize: [3, 3],
      strides: [1, 1],
    });
    const cw = caseWindows(c);
    const centre = membershipsOf(cw, 12);
    expect(centre.map((m) => [m.window.oh, m.window.ow, m.cell])).toEqual([
      [0, 0, 8],
      [0, 1, 7],
      [0, 2, 6],
      [1, 0, 5],
      [1, 1, 4],
      [1, 2, 3],
      [2, 0, 2],
      [2, 1, 1],
      [2, 2, 0],
    ]);
    // x increases along rows: the centre is the maximum of window (0, 0) only (whose last cell it is).
    expect(centre.map((m) => m.rank)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(whereInput(cw, 12)).toMatch(
      /^batch 0, row 2, column 2, channel 0 of x: in 9 overlapping windows, kept by 1;/,
    );
    expect(whereInput(cw, 0)).toMatch(/^batch 0, row 0, column 0, channel 0 of x: cell 0 of the window at y row 0/);
    // A stride of 3 over 2x2 windows: row 2 lies in no window.
    const gap = caseWindows(
      validateCase({ ...c, poolSize: [2, 2], strides: [3, 3], logits: [0], k: 1 }),
    );
    expect(membershipsOf(gap, 2 * 5 + 1)).toEqual([]);
    expect(whereInput(gap, 2 * 5 + 1)).toMatch(/: in no window \(.*\): its dx is exactly \+0$/);
  });
});

describe("deno task conformance (command line)", () => {
  const cli = async (args: string[]) => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "conformance/main.ts", ...args],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    return { code, stdout: new TextDecoder().decode(stdout), stderr: new TextDecoder().decode(stderr) };
  };

  it("exit 0 when all pass (with --json), 1 when any fails, 2 on usage errors", async () => {
    const json = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const pass = await cli(["--cases", "0", "--filter", "golden/distinct-k2-*", "--json", json, "--", ...JS_PORT]);
      expect(pass.code, pass.stderr).toBe(0);
      expect(pass.stdout.trimEnd().split("\n").at(-1)).toBe("8 passed, 0 failed");
      const report = JSON.parse(await Deno.readTextFile(json));
      expect(report.passed).toBe(8);
      expect(report.outcomes).toHaveLength(8);
    } finally {
      await Deno.remove(json);
    }
    const fail = await cli([
      "--cases",
      "0",
      "--filter",
      "golden/distinct-k2-*",
      "--",
      ...JS_PORT,
      "--weights-order",
      "smallest-first",
    ]);
    expect(fail.code).toBe(1);
    expect(fail.stdout.trimEnd().split("\n").at(-1)).toBe("0 passed, 8 failed");
    for (
      const args of [
        ["--precision", "float16", "--", ...JS_PORT],
        ["--weights-order", "backwards", "--", ...JS_PORT],
        ["--windows", "3x3", "--", ...JS_PORT],
        ["--logits", "per-channel", "--", ...JS_PORT],
        ["--timeout-ms", "0", "--", ...JS_PORT],
        ["--no-such-flag", "--", ...JS_PORT],
        [],
        ["--filter", "no-case-is-called-this", "--", ...JS_PORT],
        ["--", "/nonexistent/port"],
      ]
    ) {
      const usage = await cli(args);
      expect(usage.code, `${args.join(" ")}: ${usage.stderr}`).toBe(2);
      expect(usage.stderr).toMatch(/deno task conformance: .*expected/);
    }
    // No -- before the port's command: its --precision would have been taken by the kit. A usage error, up front.
    const noDashes = await cli(["--cases", "0", ...JS_PORT, "--precision", "float64"]);
    expect(noDashes.code, noDashes.stderr).toBe(2);
    expect(noDashes.stderr).toContain("expected -- before the port's command");
    expect(noDashes.stderr).toContain('received "node conformance/ports/js_port.mjs --precision float64" with no --');
    expect(noDashes.stdout).toBe("");
    // A --json path that cannot be written fails before the run (exit 2, naming --json), not after it (exit 1).
    const badJson = await cli(["--json", "/nonexistent-dir/report.json", "--", ...JS_PORT]);
    expect(badJson.code, badJson.stderr).toBe(2);
    expect(badJson.stderr).toMatch(/--json: expected a file path that can be written .*does not exist/);
    expect(badJson.stdout).toBe("");
  });
});

describe("command line parsing (in process)", () => {
  it("requires -- before the port's command, so the port's flags never reach the kit", () => {
    const usage = (args: string[]) => {
      try {
        splitCommandLine(CONFORMANCE_CLI, args);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error(`no UsageError for ${args.join(" ")}`);
    };
    expect(usage(["--cases", "0", "python3", "port.py", "--precision", "float64"])).toBe(
      "expected -- before the port's command (deno task conformance [flags] -- CMD [ARGS...]; without it the " +
        `port's own flags would be read as the kit's), received "python3 port.py --precision float64" with no -- ` +
        "before it",
    );
    expect(usage(["python3", "--", "port.py"])).toMatch(/received "python3" before the --$/);
    // a flag's value is not a command; a value that looks like a flag after -- belongs to the port
    expect(splitCommandLine(CONFORMANCE_CLI, ["--filter", "ties", "--seed=3", "--", "./p", "--seed", "4", "--"]))
      .toEqual({ kitArgs: ["--filter", "ties", "--seed=3"], command: ["./p", "--seed", "4", "--"] });
    expect(splitCommandLine(CONFORMANCE_CLI, ["--help"])).toEqual({ kitArgs: ["--help"], command: [] });
  });

  it("--json: a directory, a missing directory or a file as the parent is a UsageError up front", async () => {
    const dir = await Deno.makeTempDir();
    try {
      const reason = async (path: string) => {
        try {
          await checkJsonPath(path);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          expect((e as UsageError).flag).toBe("--json");
          return (e as Error).message;
        }
        return "accepted";
      };
      expect(await reason(dir)).toMatch(/^--json: expected a file path that can be written .*, a directory$/);
      expect(await reason(`${dir}/missing/report.json`)).toMatch(/its directory ".*missing" does not exist$/);
      await Deno.writeTextFile(`${dir}/file`, "x");
      expect(await reason(`${dir}/file/report.json`)).toMatch(/"[^"]*file" is not a directory$/);
      expect(await reason("")).toMatch(/received ""$/);
      // a writable new path is accepted and not left behind; an existing file is left as it was
      expect(await reason(`${dir}/report.json`)).toBe("accepted");
      expect([...Deno.readDirSync(dir)].map((e) => e.name)).toEqual(["file"]);
      expect(await reason(`${dir}/file`)).toBe("accepted");
      expect(await Deno.readTextFile(`${dir}/file`)).toBe("x");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

describe("--filter", () => {
  it("matches whole names or name parts, not substrings: ties#3/gradient is one case, not near-ties#3/gradient", async () => {
    const names = [...await goldenCases(), ...generatedCases("float32", DEFAULT_SEED, 40)].map((c) => c.name);
    const select = (term: string) => names.filter((n) => matchesFilter(n, term));
    expect(names).toContain("near-ties#3/gradient");
    expect(select("ties#3/gradient")).toEqual(["ties#3/gradient"]);
    expect(select("ties#3")).toEqual(["ties#3/forward", "ties#3/gradient"]);
    expect(select("ties#3/")).toEqual(["ties#3/forward", "ties#3/gradient"]);
    expect(select("ties")).toHaveLength(80);
    expect(select("ties").every((n) => n.startsWith("ties#"))).toBe(true);
    expect(select("golden/ties-k2")).toEqual(["golden/ties-k2/forward", "golden/ties-k2/gradient"]);
    expect(select("golden/ties-*").map((n) => n.split("/")[1])).toEqual([
      "ties-k2",
      "ties-k2",
      "ties-k3",
      "ties-k3",
      "ties-k4",
      "ties-k4",
      "ties-pool3x3s1-valid-k3",
      "ties-pool3x3s1-valid-k3",
      "ties-pool2x2s1-same-k2",
      "ties-pool2x2s1-same-k2",
    ]);
    expect(select("golden")).toEqual(names.filter((n) => n.startsWith("golden/")));
    expect(select("ties#3/grad")).toEqual([]);
    expect(select("gradient")).toEqual([]);
  });
});

describe("bad inputs: a logit that is not a number, a fractional or negative dimension", () => {
  const added = ["logits-string", "logits-null", "shape-fractional", "shape-negative"];
  const cases = badInputCases("float32").filter((c) => added.some((m) => c.name.startsWith(`bad-input/${m}#`)));

  it("are sent as such, and src/validate.ts gives the expected error", () => {
    expect(cases.map((c) => c.name)).toEqual([
      "bad-input/logits-string#0/forward",
      "bad-input/logits-string#0/gradient",
      "bad-input/logits-null#0/forward",
      "bad-input/logits-null#0/gradient",
      "bad-input/shape-fractional#0/forward",
      "bad-input/shape-negative#0/forward",
      "bad-input/logits-string#1/forward",
      "bad-input/logits-string#1/gradient",
      "bad-input/logits-null#1/forward",
      "bad-input/logits-null#1/gradient",
      "bad-input/shape-fractional#1/forward",
      "bad-input/shape-negative#1/forward",
    ]);
    const byName = new Map(cases.map((c) => [c.name, c.request]));
    const expected = (name: string) => expectedFor(byName.get(name)!, "float32");
    expect(encodeRequest(byName.get("bad-input/logits-string#0/forward")!)).toContain('"logits":["abc",');
    expect(encodeRequest(byName.get("bad-input/logits-null#0/gradient")!)).toContain('"logits":[null,');
    expect(expected("bad-input/logits-string#0/forward")).toEqual({
      kind: "error",
      message: 'sort_pool2d: logits[0]: expected a number (NaN and ±Infinity are allowed), received "abc"',
    });
    expect(expected("bad-input/logits-null#1/gradient")).toEqual({
      kind: "error",
      message: "sort_pool2d: logits[0]: expected a number (NaN and ±Infinity are allowed), received null",
    });
    expect(expected("bad-input/shape-fractional#0/forward")).toEqual({
      kind: "error",
      message: "sort_pool2d: shape[1] (height): expected a non-negative integer, received 2.5",
    });
    expect(expected("bad-input/shape-negative#1/forward")).toEqual({
      kind: "error",
      message: "sort_pool2d: shape[2] (width): expected a non-negative integer, received -5",
    });
  });

  it("the example port rejects them; a port that accepts them fails each", async () => {
    const filter = added.map((m) => `bad-input/${m}`);
    const js = await kit(JS_PORT, { casesPerClass: 0, filter });
    expect(js.report.outcomes).toHaveLength(12);
    expect(js.report.failed, js.text).toBe(0);
    const lenient = await kit(
      nodePort(
        `(r) => r.op === "forward" ? { id: r.id, shape: [1, 1, 1, 1], y: [0] } : { id: r.id, dx: [], dLogits: [] }`,
      ),
      { casesPerClass: 0, filter },
    );
    expect(lenient.report.failed).toBe(12);
    expect(lenient.report.outcomes.every((c) => c.problems[0].what === "error expected")).toBe(true);
    expectEnded(lenient);
  });
});

describe("empty inputs", () => {
  it("both example ports answer them; a port that computes dLogits through the softmax there fails", async () => {
    const cases = emptyInputCases();
    expect(cases.map((c) => c.request.shape[0] * c.request.shape[1] * c.request.shape[2] * c.request.shape[3]))
      .toEqual(Array(cases.length).fill(0));
    const all = [...cases, ...badInputCases("float32")];
    const expected = (name: string) => expectedFor(all.find((c) => c.name === name)!.request, "float32");
    expect(expected("empty-input#0/forward")).toEqual({ kind: "forward", shape: [0, 2, 2, 3], y: new Float64Array(0) });
    expect(expected("empty-input#3/gradient")).toEqual({
      kind: "gradient",
      dx: new Float64Array(0),
      dLogits: new Float64Array([0, 0, 0]), // a NaN logit included: nothing is computed
    });
    expect(expected("empty-input#2/forward")).toMatchObject({ kind: "forward", shape: [0, 0, 2, 2] });
    expect(expected("bad-input/zero-dimension#0/forward").kind).toBe("error");
    for (const port of [JS_PORT, NUMPY_PORT]) {
      const run = await kit(port, { casesPerClass: 0, filter: ["empty-input", "bad-input/zero-dimension"] });
      // Every empty-input request, and the zero-dimension mutation of both bad-input bases (rejected).
      expect(run.report.outcomes).toHaveLength(cases.length + 2);
      expect(run.report.failed, run.text).toBe(0);
    }
    const nan = await kit(
      nodePort(
        `(r) => r.op === "forward" ? { id: r.id, shape: [0, 2, 2, 3], y: [] } : { id: r.id, dx: [], dLogits: r.logits.map(() => "NaN") }`,
      ),
      { casesPerClass: 0, filter: ["empty-input#0/gradient", "empty-input#3/gradient"] },
    );
    expect(nan.report.failed).toBe(2);
    expect(nan.report.outcomes.map((c) => c.problems[0].what)).toEqual(["dLogits", "dLogits"]);
    expectEnded(nan);
  });
});

describe("hints only for their cause; unexpected bytes escaped", () => {
  it("tie and sign-of-zero failures in logits-range get no float32-softmax hint", async () => {
    for (const plant of ["ties-high-index", "unsigned-zeros"]) {
      const run = await kit([...JS_PORT, "--plant", plant], { casesPerClass: 40, filter: ["logits-range"] });
      const range = run.report.categories.find((c) => c.name === "logits-range")!;
      expect(range.failed, `${plant}: ${run.text.slice(0, 2000)}`).toBeGreaterThan(0);
      expect(run.report.hints, plant).toEqual([]);
      expect(run.text).not.toContain("hint for");
    }
  });

  it("the general-window hints: each only for its own mistake, none for a sign-of-zero or tie-order bug", async () => {
    const general = ["overlap", "gaps", "asymmetric", "same-split", "per-channel"];
    for (
      const [plant, hinted] of [
        ["ties-high-index", []],
        ["unsigned-zeros", []],
        ["pad-after", ["same-split"]],
        ["column-major", ["asymmetric"]],
        ["valid-ceil", ["gaps"]],
      ] as const
    ) {
      const run = await kit([...JS_PORT, "--plant", plant], { casesPerClass: 30, filter: general });
      const failed = run.report.categories.filter((c) => general.includes(c.name)).map((c) => c.failed);
      expect(failed.reduce((a, b) => a + b, 0), plant).toBeGreaterThan(0);
      expect(run.report.hints.map((h) => h.category), plant).toEqual(hinted);
    }
  });

  it("a byte-order mark before an answer is shown escaped and named", async () => {
    const run = await kit([...JS_PORT, "--plant", "bom-after-first"], { casesPerClass: 0 });
    const reason = run.report.portFailure!.reason;
    expect(reason).toMatch(/^the port printed a line that is not a JSON object \(.*\): "\\ufeff\{\\"id\\":/);
    expect(reason).toContain("(it holds U+FEFF (a byte-order mark: write UTF-8 without one), shown escaped)");
    expect(reason).not.toContain("\uFEFF");
    expect(run.text).not.toContain("\uFEFF");
    expect(visible('"a\u200bb\u0085"')).toBe('"a\\u200bb\\u0085"');
    expect(visible("k·C = ±1 ✓")).toBe("k·C = ±1 ✓");
    expectEnded(run);
  });

  it("a byte-order mark before the FIRST answer fails that line too (not dropped by the decoder), shown escaped", async () => {
    const run = await kit([...JS_PORT, "--plant", "bom-first"], { casesPerClass: 0 });
    expect(run.report.passed).toBe(0);
    const reason = run.report.portFailure!.reason;
    expect(reason).toMatch(/^the port printed a line that is not a JSON object \(.*\): "\\ufeff\{\\"id\\":/);
    expect(reason).toContain("U+FEFF (a byte-order mark: write UTF-8 without one)");
    expect(run.text).not.toContain("\uFEFF");
    expectEnded(run);
  });

  it("escapes every invisible or filler character by code point, and names it", () => {
    // spaces other than U+0020, combining and filler characters, characters above U+FFFF (one escape, not a surrogate)
    expect(visible("a\u00a0b\u3000c")).toBe("a\\u00a0b\\u3000c");
    expect(visible("id\u034f\u3164\u115f\u1160\uffa0")).toBe("id\\u034f\\u3164\\u115f\\u1160\\uffa0");
    expect(visible("a\u{E0001}b\u{F0000}\u{E0020}")).toBe("a\\u{e0001}b\\u{f0000}\\u{e0020}");
    expect(visible("\ud800x")).toBe("\\ud800x"); // a lone surrogate stays one escape
    expect(invisibleNote("x\u{E0001}\u00a0")).toBe(" (it holds U+E0001, U+00A0, shown escaped)");
    expect(visible("plain ASCII, k·C = ±1 ✓ é")).toBe("plain ASCII, k·C = ±1 ✓ é");
    // a JSON.parse message names a character above U+FFFF whole, not by its high surrogate
    const parsed = parseAnswerLine('\u{E0001}{"id":"a"}');
    expect(parsed.kind).toBe("not-json");
    expect(visible((parsed as { problem: string }).problem)).toContain("'\\u{e0001}'");
    expect(visible((parsed as { problem: string }).problem)).not.toMatch(/\\ud[89ab]/);
  });
});

describe("logits-range", () => {
  it("a port that rounds its logits to float32 fails it, and the report says to compute the softmax in float64", async () => {
    const run = await kit([...JS_PORT, "--plant", "float32-logits"], { casesPerClass: 10, filter: ["logits-range"] });
    const range = run.report.categories.find((c) => c.name === "logits-range")!;
    expect(range.failed, run.text.slice(0, 2000)).toBeGreaterThan(0);
    expect(run.report.hints).toEqual([{ category: "logits-range", hint: LOGITS_RANGE_HINT }]);
    expect(run.text).toContain(`hint for the logits-range failures: ${LOGITS_RANGE_HINT}`);
    expect(LOGITS_RANGE_HINT).toMatch(/softmax of the logits computed in float64 once per call/);
    expect(LOGITS_RANGE_HINT).toMatch(/float32 parameter \(PyTorch/);
    // the same port without the planted rounding passes, with no hint
    const ok = await kit(JS_PORT, { casesPerClass: 10, filter: ["logits-range"] });
    expect(ok.report.failed, ok.text.slice(0, 2000)).toBe(0);
    expect(ok.report.hints).toEqual([]);
    expect(ok.text).not.toContain("hint for");
  });
});

/** Processes (pid, process group, state) as /proc lists them; Linux only. */
function processTable(): { pid: number; pgrp: number; state: string }[] {
  const out = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after its closing parenthesis.
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.push({ pid: Number(e.name), pgrp: Number(pgrp), state });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Waits up to `ms` for every pid in `pids` and every member of group `pgid` to be gone (or a zombie). */
async function gone(pids: number[], pgid: number, ms = 5000): Promise<{ pid: number; pgrp: number; state: string }[]> {
  const deadline = performance.now() + ms;
  for (;;) {
    const alive = processTable().filter((p) => p.state !== "Z" && (pids.includes(p.pid) || p.pgrp === pgid));
    if (alive.length === 0 || performance.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a port behind a wrapper (sh, npm run, cargo run)", () => {
  // The wrapper records its pid (= the port's process group id) and the real port records its own.
  const wrapper = (pidFile: string, port: string) => [
    "/bin/sh",
    "-c",
    `echo $$ > "$0"; node -e "require('fs').appendFileSync(process.argv[1], ' ' + process.pid); ${port}" "$0"`,
    pidFile,
  ];
  const pidsIn = async (pidFile: string) => (await Deno.readTextFile(pidFile)).trim().split(/\s+/).map(Number);
  // Answers the first request (with an error: a failed case, the run goes on), then reads on without answering.
  const hangsAfterFirst =
    `let n = 0; require('readline').createInterface({ input: process.stdin }).on('line', (l) => ` +
    `{ if (n++ === 0) console.log(JSON.stringify({ id: JSON.parse(l).id, error: 'first' })); }); ` +
    `setInterval(() => {}, 1000);`;
  // Answers every request with an error, and ignores the end of its input (and SIGTERM) for a minute.
  const lingers = `process.on('SIGTERM', () => {}); require('readline').createInterface({ input: process.stdin })` +
    `.on('line', (l) => console.log(JSON.stringify({ id: JSON.parse(l).id, error: 'no' }))); ` +
    `setTimeout(() => {}, 60000);`;

  for (
    const [title, port, timeoutMs] of [
      ["hangs: the timeout kills the whole process group, not only the wrapper", hangsAfterFirst, 1500],
      ["outlives its wrapper's end of input and SIGTERM: the group is killed", lingers, 10_000],
    ] as const
  ) {
    it(title, async () => {
      const pidFile = await Deno.makeTempFile();
      let pids: number[] = [];
      try {
        const run = await kit(wrapper(pidFile, port), {
          timeoutMs,
          casesPerClass: 0,
          filter: ["golden/hand-1x2x2x1-k2/"],
        });
        pids = await pidsIn(pidFile);
        expect(pids).toHaveLength(2);
        expect(run.report.outcomes.map((c) => c.status)).toEqual(["fail", "fail"]);
        if (port === hangsAfterFirst) {
          expect(run.report.portFailure!.reason).toMatch(/^no answer within 1500 ms/);
          expect(run.report.portExit).toBe("was killed by the kit (SIGKILL)");
        }
        // the wrapper (group leader) and the real port are both gone, and nothing else is left in the group
        expect(await gone(pids, pids[0])).toEqual([]);
        expectEnded(run);
      } finally {
        for (const pid of pids) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch {
            // gone, as it should be
          }
        }
        await Deno.remove(pidFile);
      }
    });
  }
});
