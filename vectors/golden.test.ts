/**
 * The golden vectors (vectors/sort_pool2d.json): the file matches a fresh generation and fits its
 * JSON Schema (schemas/golden_vectors.schema.json), and a file that does not is refused with the
 * JSON path of each problem; its cases cover what the spec fixes (SPEC.md §2-5), the reference
 * reproduces them bitwise, and every registry entry reproduces them within its precision's
 * tolerance. A case an entry does not support (src/registry.ts `unsupportedReason`) is not
 * compared: its test, named with the reason, checks that the entry rejects it with a
 * SortPoolArgumentError instead, as the registry requires.
 * The tf.layers layer, on tfjs's webgpu backend, reproduces them too (y, dx, and dLogits where it
 * has logits).
 */
import { afterAll, describe, expect, test } from "vitest";
import { parseCli } from "../harness/cli.ts";
import {
  GOLDEN_CLI,
  GOLDEN_URL,
  type GoldenCase,
  GoldenFileError,
  goldenFileText,
  goldenInput,
  goldenMain,
  loadGoldenCases,
  parseGoldenFile,
} from "./golden.ts";
import { goldenVectorsViolations } from "../schemas/validate.ts";
import { referenceForward, referenceGradient } from "../src/reference.ts";
import { disposeAll, implementations, unsupportedReason } from "../src/registry.ts";
import { sortPooling2d } from "../src/layer.ts";
import { tf, withBackend } from "../src/tfjs/runtime.ts";
import { isDefaultWindow, poolGeometry, windowsContaining } from "../src/spec.ts";
import type { Implementation } from "../src/types.ts";
import { SortPoolArgumentError } from "../src/validate.ts";

/** First element that differs bitwise-in-value (Object.is: NaN equals NaN, +0 differs from -0). */
function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) return `index ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return null;
}

const cases = await loadGoldenCases();
afterAll(() => disposeAll());

/** The case's window arithmetic (SPEC.md §2-3). */
const geometryOf = (g: GoldenCase) => poolGeometry(g.shape, g.padding, g);

/** How many windows contain input cell (row, col) of a case (SPEC.md §5: the terms of its dx). */
function windowsAt(g: GoldenCase, row: number, col: number): number {
  const geo = geometryOf(g);
  const [r0, r1] = windowsContaining(geo.rows, row);
  const [c0, c1] = windowsContaining(geo.cols, col);
  return Math.max(0, r1 - r0 + 1) * Math.max(0, c1 - c0 + 1);
}

describe("golden vectors", () => {
  test("the committed file equals a fresh generation (regenerate with `deno task golden`)", async () => {
    const committed = await Deno.readTextFile(GOLDEN_URL);
    expect(committed === goldenFileText()).toBe(true);
  });

  test("the 49 default-window cases are byte-identical to those before general windows (2x2/2 unchanged)", async () => {
    // SHA-256 of JSON.stringify of the first 49 cases as stored, taken from the file before general
    // windows were added. A change here changes what every 2x2 port was checked against: it must
    // be a deliberate spec change, never a side effect.
    const raw = JSON.parse(await Deno.readTextFile(GOLDEN_URL)) as { cases: Record<string, unknown>[] };
    const head = raw.cases.slice(0, 49);
    expect(head.every((c) => !("poolSize" in c) && !("strides" in c))).toBe(true);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(head))),
    );
    expect(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")).toBe(
      "aa457f1fa956ec32e03d4ba53f35b615cd8b30fb7751f250d97d821b2a3cb74d",
    );
  });

  test("cover k 1..4, both paddings, odd and even sizes, ties, NaN/Infinity, batch and channels > 1", () => {
    const defaults = cases.filter((c) => isDefaultWindow(geometryOf(c)));
    for (const k of [1, 2, 3, 4]) {
      for (const padding of ["same", "valid"]) {
        const matching = defaults.filter((c) => c.k === k && c.padding === padding);
        expect(matching.some((c) => c.shape[1] % 2 === 1 || c.shape[2] % 2 === 1)).toBe(true);
        expect(matching.some((c) => c.shape[1] % 2 === 0 && c.shape[2] % 2 === 0)).toBe(true);
      }
    }
    expect(cases.some((c) => c.x.some(Number.isNaN))).toBe(true);
    expect(cases.some((c) => c.x.some((v) => v === Infinity) && c.x.some((v) => v === -Infinity))).toBe(true);
    expect(cases.some((c) => c.shape[0] > 1 && c.shape[3] > 1)).toBe(true);
    expect(cases.some((c) => c.name.startsWith("ties"))).toBe(true);
    // Every case carries a gradient, non-finite x and dy included (SPEC.md §5).
    for (const c of cases) {
      expect(c.dx.length, c.name).toBe(c.x.length);
      expect(c.dLogits.length, c.name).toBe(c.logits.length);
    }
  });

  test("cover general windows: overlap, gaps, asymmetric, padding on both sides, per-channel logits", () => {
    const window = (kh: number, kw: number, sh: number, sw: number) =>
      cases.filter((c) => {
        const g = geometryOf(c);
        return g.poolSize[0] === kh && g.poolSize[1] === kw && g.strides[0] === sh && g.strides[1] === sw;
      });
    const general = cases.filter((c) => c.poolSize !== undefined);
    // A case carries both window fields or neither; default-window cases never carry them.
    for (const c of cases) {
      expect(c.poolSize === undefined, c.name).toBe(c.strides === undefined);
      if (c.poolSize) expect(isDefaultWindow(geometryOf(c)), c.name).toBe(false);
    }
    // 3x3/2, both paddings; "same" on an odd size pads before AND after on both axes.
    const s32 = window(3, 3, 2, 2);
    expect(s32.some((c) => c.padding === "valid")).toBe(true);
    expect(s32.some((c) => {
      const g = geometryOf(c);
      return c.padding === "same" && g.rows.padBefore > 0 && g.rows.padAfter > 0 && g.cols.padBefore > 0 &&
        g.cols.padAfter > 0;
    })).toBe(true);
    // 3x3/1: an interior cell lies in 9 windows.
    expect(window(3, 3, 1, 1).some((c) => windowsAt(c, 2, 2) === 9)).toBe(true);
    expect(window(2, 2, 1, 1).some((c) => windowsAt(c, 1, 1) === 4)).toBe(true);
    expect(window(4, 4, 4, 4).length).toBeGreaterThan(0);
    expect(window(3, 2, 1, 2).length).toBeGreaterThan(0);
    expect(window(1, 1, 1, 1).length).toBeGreaterThan(0);
    // Gaps: stride 3 over 2x2 leaves cells in no window, whose dx is exactly +0.
    const gaps = window(2, 2, 3, 3);
    expect(gaps.some((c) => windowsAt(c, 2, 2) === 0 && Object.is(c.dx[(2 * c.shape[2] + 2) * c.shape[3]], 0)))
      .toBe(true);
    // k past 4, and k = kh·kw (every cell kept).
    expect(general.some((c) => c.k > 4)).toBe(true);
    expect(general.some((c) => c.k === c.poolSize![0] * c.poolSize![1] && c.k > 4)).toBe(true);
    // Per-channel logits (C = 3, length C·k) on the default window and on a general one.
    const perChannel = cases.filter((c) => c.shape[3] === 3 && c.logits.length === 3 * c.k);
    expect(perChannel.some((c) => c.poolSize === undefined)).toBe(true);
    expect(perChannel.some((c) => c.poolSize !== undefined)).toBe(true);
    expect(perChannel.some((c) => c.logits.some(Number.isNaN) && c.dLogits.some((v) => !Number.isNaN(v))))
      .toBe(true);
    // Ties, NaN, ±Infinity, signed zeros and non-finite dy under general windows.
    expect(general.some((c) => c.name.startsWith("ties-"))).toBe(true);
    expect(general.some((c) => c.x.some(Number.isNaN) && c.x.includes(Infinity) && c.x.includes(-Infinity)))
      .toBe(true);
    expect(general.some((c) => c.dy.some((v) => !Number.isFinite(v)))).toBe(true);
    expect(general.some((c) => c.y.some((v) => Object.is(v, -0)) && c.dx.some((v) => Object.is(v, -0)))).toBe(true);
  });

  test("overlap sums dx from the first term: -0 + -0 = -0, -0 + +0 = +0 (SPEC.md §5)", () => {
    const c = cases.find((g) => g.name === "signed-zeros-pool2x2s1-valid-k1")!;
    expect(windowsAt(c, 0, 1)).toBe(2);
    // Cell (0, 1) is the -0 maximum of windows (0, 0) and (0, 1) in both batches; dy there is [-0, -0] and [-0, +0].
    expect(Object.is(c.dx[1], -0)).toBe(true);
    expect(Object.is(c.dx[9 + 1], 0)).toBe(true);
  });

  test("cover the special input classes with the values SPEC.md §5 fixes", () => {
    const byName = new Map(cases.map((c) => [c.name, c]));
    const get = (name: string) => {
      const c = byName.get(name);
      if (!c) throw new Error(`golden case ${name} is missing`);
      return c;
    };
    const same = (a: ArrayLike<number>, b: number[]) => expect(firstDifference(a, b)).toBeNull();
    // 1. k = 1 dLogits is exactly +0 whatever x and dy hold.
    same(get("k1-nonfinite-windows-dlogits").dLogits, [0]);
    same(get("logits-nan-k1").dLogits, [0]);
    // 2. logits finite in float64 only: one-hot weights.
    for (const name of ["logits-past-float32-1e39", "logits-past-float32-5e38", "logits-past-float32--2e39"]) {
      expect(get(name).logits.some((l) => Math.abs(l) > 3.5e38), name).toBe(true);
    }
    same(get("logits-past-float32-1e39").y, [4]);
    same(get("logits-past-float32-1e39").dx, [0, 1, 0, 0]);
    // 3. non-finite logits: the softmax limit.
    same(get("logits-plus-infinity").y, [4, 8]);
    same(get("logits-all-minus-infinity").y, [2.5, 5.5]);
    same(get("logits-nan").y, [NaN, NaN]);
    // 4. signed zeros.
    same(get("signed-zero-k1").y, [-0, 0, -0]);
    same(get("signed-zeros-k2").y, [0, -0]);
    same(get("signed-zero-k2-same").y, [-0, 0]);
    same(get("signed-zero-dx").dx, [0, -2, -0, 0]);
    // 5. non-finite dy and padded cells.
    same(get("nonfinite-dy-plus-infinity").dx, [0, Infinity, Infinity, 0]);
    same(get("nonfinite-dy-nan").dLogits, [NaN, NaN]);
    same(get("nonfinite-dy-padded").dLogits, [0, 0]);
    same(get("nonfinite-dy-one-window").dLogits, [NaN, NaN, NaN]);
  });

  test("the reference reproduces every case bitwise", () => {
    for (const c of cases) {
      const input = goldenInput(c);
      const forward = referenceForward(input);
      expect(forward.shape, c.name).toEqual(c.outputShape);
      expect(firstDifference(forward.y, c.y), c.name).toBeNull();
      const { dx, dLogits } = referenceGradient(input, c.dy);
      expect(firstDifference(dx, c.dx), c.name).toBeNull();
      expect(firstDifference(dLogits, c.dLogits), c.name).toBeNull();
    }
  });
});

describe("the vectors file format (schemas/golden_vectors.schema.json)", () => {
  const committedText = Deno.readTextFileSync(GOLDEN_URL);

  /** The committed file cut to its first three cases, changed by `edit`, as text. */
  const edited = (edit: (file: { schema: Record<string, unknown>; cases: Record<string, unknown>[] }) => void) => {
    const file = JSON.parse(committedText);
    file.cases = file.cases.slice(0, 3);
    edit(file);
    return JSON.stringify(file);
  };

  /** The GoldenFileError parseGoldenFile throws for `text` (fails the test when it throws none). */
  const refusal = (text: string): GoldenFileError => {
    try {
      parseGoldenFile(text);
    } catch (e) {
      expect(e).toBeInstanceOf(GoldenFileError);
      return e as GoldenFileError;
    }
    throw new Error("parseGoldenFile accepted the file");
  };

  test("the committed file fits the schema, and parses into every case", () => {
    expect(goldenVectorsViolations(JSON.parse(committedText))).toEqual([]);
    expect(parseGoldenFile(committedText).map((c) => c.name)).toEqual(cases.map((c) => c.name));
  });

  test("a missing field, a wrong type, an unknown field: refused, naming the JSON path and the case", () => {
    const missing = refusal(edited((f) => delete f.cases[1].dLogits));
    expect(missing.message).toContain(
      '$.cases[1].dLogits (case "distinct-k1-same-odd"): expected a field "dLogits"; received nothing: the field ' +
        "is missing",
    );
    expect(missing.message).toMatch(/^golden vectors: 1 problem \(the format: vectors\/README\.md, schemas\//);
    expect(missing.problems).toEqual([
      { path: "$.cases[1].dLogits", expected: 'a field "dLogits"', received: "nothing: the field is missing" },
    ]);
    expect(refusal(edited((f) => (f.cases[0].k = "1"))).message).toContain(
      '$.cases[0].k (case "distinct-k1-same-even"): expected an integer; received "1" (a string)',
    );
    expect(refusal(edited((f) => (f.cases[2].k = 17))).problems).toEqual([
      { path: "$.cases[2].k", expected: "an integer in 1..16", received: "17" },
    ]);
    expect(refusal(edited((f) => (f.cases[0].padding = "SAME"))).problems[0]).toEqual({
      path: "$.cases[0].padding",
      expected: 'one of "same", "valid"',
      received: '"SAME"',
    });
    const unknown = refusal(edited((f) => (f.cases[0].pool_size = [3, 3]))).problems[0];
    expect(unknown.path).toBe("$.cases[0].pool_size");
    expect(unknown.expected).toMatch(/^no field "pool_size" \(the fields are "name", "description", "shape", /);
    expect(unknown.received).toBe("[3,3]");
    expect(refusal(edited((f) => (f.schema.version = 3))).problems).toEqual([
      { path: "$.schema.version", expected: "2", received: "3" },
    ]);
    expect(refusal(edited((f) => (f.cases[0].shape = [2, 4, 6]))).problems).toEqual([
      { path: "$.cases[0].shape", expected: "an array of exactly 4 items", received: "3 items: [2,4,6]" },
    ]);
    expect(refusal(edited((f) => (f.cases[0].poolSize = [3, 3]))).problems).toEqual([
      {
        path: "$.cases[0].strides",
        expected: 'a field "strides" too, since "poolSize" is present',
        received: "nothing: the field is missing",
      },
    ]);
  });

  test("numbers: a JSON number or one of four strings; another string or null is refused at its element", () => {
    const encoding = 'a JSON number, or one of the strings "NaN", "Infinity", "-Infinity", "-0"';
    expect(refusal(edited((f) => ((f.cases[0].x as unknown[])[5] = "nan"))).problems).toEqual([
      { path: "$.cases[0].x[5]", expected: encoding, received: '"nan"' },
    ]);
    expect(refusal(edited((f) => ((f.cases[2].dLogits as unknown[])[0] = null))).problems).toEqual([
      { path: "$.cases[2].dLogits[0]", expected: encoding, received: "null" },
    ]);
    expect(refusal(edited((f) => ((f.cases[1].y as unknown[])[0] = "-0.0"))).problems[0].path).toBe("$.cases[1].y[0]");
    // The four strings and JSON numbers are the encoding: they decode to the values JSON cannot hold.
    const special = ["NaN", "Infinity", "-Infinity", "-0", 1.5];
    const decoded = parseGoldenFile(
      edited((f) => (f.cases[0].x = (f.cases[0].x as unknown[]).map((_, i) => special[i % 5]))),
    );
    expect(Array.from(decoded[0].x.slice(0, 5))).toEqual([NaN, Infinity, -Infinity, -0, 1.5]);
    expect(Object.is(decoded[0].x[3], -0)).toBe(true);
    // A bare NaN token is not JSON at all.
    expect(refusal(committedText.replace('"logits": [0.5]', '"logits": [NaN]')).message).toMatch(
      /^golden vectors: not JSON: /,
    );
  });

  test("what the schema cannot state: unique names, lengths, the output shape", () => {
    expect(refusal(edited((f) => (f.cases[2].name = f.cases[0].name))).problems).toEqual([
      {
        path: "$.cases[2].name",
        expected: "a name no other case has",
        received: '"distinct-k1-same-even", the name of $.cases[0] too',
      },
    ]);
    expect(refusal(edited((f) => (f.cases[0].x = (f.cases[0].x as unknown[]).slice(1)))).problems).toEqual([
      { path: "$.cases[0].x", expected: "144 values (B·H·W·C of shape [2, 4, 6, 3])", received: "143" },
      { path: "$.cases[0].dx", expected: "143 values (x's length)", received: "144" },
    ]);
    expect(refusal(edited((f) => (f.cases[0].logits = [0.5, 0]))).problems).toEqual([
      { path: "$.cases[0].logits", expected: "k = 1 or C·k = 3 values", received: "2" },
      { path: "$.cases[0].dLogits", expected: "2 values (the logits' length)", received: "1" },
    ]);
    expect(refusal(edited((f) => (f.cases[0].outputShape = [2, 3, 3, 3]))).problems[0]).toEqual({
      path: "$.cases[0].outputShape",
      expected: "[2, 2, 3, 3] (SPEC.md §3, for this shape, padding and window)",
      received: "[2,3,3,3]",
    });
  });

  test("many problems: the first ten listed, the rest counted", () => {
    const e = refusal(edited((f) => {
      for (const c of f.cases) c.x = (c.x as unknown[]).map(() => "nan");
    }));
    expect(e.problems.length).toBeGreaterThan(10);
    const lines = e.message.split("\n");
    expect(lines).toHaveLength(1 + 10 + 1);
    expect(lines.at(-1)).toBe(`  ... and ${e.problems.length - 10} more`);
  });
});

/** Unit roundoff of an entry's declared precision. */
const unitRoundoff = (impl: Implementation) => (impl.precision === "float32" ? 2 ** -24 : 2 ** -53);

/** Largest finite |v| of an array (0 when none). */
function maxFiniteAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * The first element of `actual` that misses `expected`, described, or null. NaN must meet NaN and
 * ±Infinity itself; finite values agree within `tol(i)`; where both are zeros and `zeroSign`, their
 * signs must agree (SPEC.md §5 fixes the sign of a zero y and dx).
 */
function miss(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: (i: number) => number,
  zeroSign: boolean,
): string | null {
  if (actual.length !== expected.length) return `${what}: length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e) || Number.isNaN(a)
      ? Number.isNaN(e) && Number.isNaN(a)
      : !Number.isFinite(e) || !Number.isFinite(a)
      ? a === e
      : a === 0 && e === 0
      ? !zeroSign || Object.is(a, e)
      : Math.abs(a - e) <= tol(i);
    if (!ok) {
      const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
      return `${what}[${i}]: received ${show(a)}, expected ${show(e)} (tolerance ${tol(i).toExponential(2)})`;
    }
  }
  return null;
}

/**
 * Every problem of an entry's answers on a golden case. Tolerances are 64 roundings in the entry's
 * precision of the numbers involved: y within 64·u·max|x|; dx within 64·u·(windows containing the
 * cell)·max|dy| (an overlapped cell sums that many terms); dLogits within (2N + 64)·u·max|x|·Σ|dy|
 * (N windows; the rank sums). k = 1's y is the window's maximum itself (bitwise) and its dLogits
 * exactly +0 (SPEC.md §5).
 */
async function problems(impl: Implementation, g: GoldenCase, hasLogits = true): Promise<string[]> {
  const u = unitRoundoff(impl);
  const input = goldenInput(g, impl.precision === "float32" ? Float32Array.from(g.x) : g.x);
  const maxX = maxFiniteAbs(g.x);
  const maxDy = maxFiniteAbs(g.dy);
  let sumDy = 0;
  for (const v of g.dy) if (Number.isFinite(v)) sumDy += Math.abs(v);
  const found: string[] = [];
  const note = (p: string | null) => p && found.push(p);

  const forward = await impl.forward(input);
  if (JSON.stringify(forward.shape) !== JSON.stringify(g.outputShape)) {
    found.push(`shape: received [${forward.shape}], expected [${g.outputShape}]`);
  }
  // k = 1: tolerance 0 with the zero sign, i.e. the window's maximum itself.
  note(miss("y", forward.y, g.y, () => (g.k === 1 ? 0 : 64 * u * maxX), true));

  const { dx, dLogits } = await impl.gradient(input, g.dy);
  const [, , width, channels] = g.shape;
  note(miss("dx", dx, g.dx, (i) => {
    const cell = Math.floor(i / channels);
    return 64 * u * windowsAt(g, Math.floor(cell / width) % g.shape[1], cell % width) * maxDy;
  }, true));
  if (!hasLogits) return found;
  note(miss("dLogits", dLogits, g.dLogits, () => (2 * g.y.length + 64) * u * maxX * sumDy, false));
  if (g.k === 1 && !Array.from(dLogits).every((v) => Object.is(v, 0))) {
    found.push(`dLogits (k = 1): received [${Array.from(dLogits)}], expected exactly +0 everywhere`);
  }
  return found;
}

/** Whether `p` rejects with a SortPoolArgumentError (the registry's contract for unsupported cases). */
async function rejection(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
    return "no error";
  } catch (e) {
    return e instanceof SortPoolArgumentError ? "SortPoolArgumentError" : `${(e as Error)?.name}: ${e}`;
  }
}

for (const impl of implementations) {
  describe(`golden vectors on ${impl.name} (${impl.precision})`, () => {
    for (const g of cases) {
      const reason = unsupportedReason(impl, goldenInput(g));
      if (reason === undefined) {
        test(g.name, async () => {
          expect(await problems(impl, g), `${impl.name} on ${g.name}: ${g.description}`).toEqual([]);
        });
      } else {
        test(`${g.name}: not compared, unsupported (${reason}); rejected with a SortPoolArgumentError`, async () => {
          const input = goldenInput(g, Float32Array.from(g.x));
          expect(await rejection(() => impl.forward(input)), "forward").toBe("SortPoolArgumentError");
          expect(await rejection(() => impl.gradient(input, g.dy)), "gradient").toBe("SortPoolArgumentError");
        });
      }
    }
  });
}

describe("deno task golden (command line)", () => {
  test("--help asks for help only; --out writes elsewhere; --check compares without writing", async () => {
    expect(parseCli(GOLDEN_CLI, ["--help"]).help).toBe(true);
    expect(() => parseCli(GOLDEN_CLI, ["--write"])).toThrow(/^--write: expected one of/);
    const out = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const run = (args: string[]) => goldenMain(parseCli(GOLDEN_CLI, args));
      expect(await run(["--out", out])).toBe(0);
      expect(await Deno.readTextFile(out)).toBe(goldenFileText());
      expect(await run(["--check", "--out", out])).toBe(0);
      await Deno.writeTextFile(out, "{}\n");
      expect(await run(["--check", "--out", out])).toBe(1);
      expect(await Deno.readTextFile(out)).toBe("{}\n");
    } finally {
      await Deno.remove(out);
    }
  });
});

/**
 * The SortPooling2D layer as an entry for one golden case, on tfjs's webgpu backend: a fresh layer
 * with the case's window and its logits set as the layer's weight; dx through tf.grad of the
 * layer's output, dLogits through tf.variableGrads of that weight. k = 1 has no weight, so no
 * dLogits (the caller skips that comparison).
 */
function layerOnWebgpu(g: GoldenCase): Implementation {
  const make = () => {
    const layer = sortPooling2d({
      k: g.k,
      padding: g.padding,
      perChannel: g.logits.length !== g.k,
      ...(g.poolSize === undefined ? {} : { poolSize: g.poolSize }),
      ...(g.strides === undefined ? {} : { strides: g.strides }),
    });
    layer.build([...g.shape]);
    if (g.k >= 2) layer.setWeights([tf.tensor1d(Float32Array.from(g.logits))]);
    return layer;
  };
  const x = () => tf.tensor4d(Float32Array.from(g.x), [...g.shape]);
  return {
    name: "SortPooling2D layer@webgpu",
    description: "the tf.layers layer on tfjs's webgpu backend",
    precision: "float32",
    device: "webgpu",
    backend: "webgpu",
    ties: { kind: "spec" },
    forward: () =>
      withBackend("webgpu", async () => {
        const layer = make();
        const xt = x();
        const y = layer.apply(xt) as tf.Tensor;
        const out = { y: Float32Array.from(await y.data()), shape: y.shape as [number, number, number, number] };
        tf.dispose([xt, y]);
        for (const w of layer.weights) w.dispose();
        return out;
      }),
    gradient: (_c, dyValues) =>
      withBackend("webgpu", async () => {
        const layer = make();
        const xt = x();
        const dy = tf.tensor4d(Float32Array.from(dyValues), g.outputShape);
        const loss = (a: tf.Tensor) => (layer.apply(a) as tf.Tensor).mul(dy).sum() as tf.Scalar;
        const dx = tf.grad(loss)(xt);
        const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        let dLogits = new Float32Array();
        if (weights.length > 0) {
          const { value, grads } = tf.variableGrads(() => loss(xt), weights);
          dLogits = Float32Array.from(await grads[weights[0].name].data());
          tf.dispose([value, ...Object.values(grads)]);
        }
        const out = { dx: Float32Array.from(await dx.data()), dLogits };
        tf.dispose([xt, dy, dx]);
        for (const w of layer.weights) w.dispose();
        return out;
      }),
  };
}

describe("golden vectors on the SortPooling2D layer (tfjs webgpu backend)", () => {
  // A k = 1 layer has no logits (it is max pooling), so the cases about a k = 1 logit's value (NaN,
  // per channel) say nothing about it; every other case applies.
  for (const g of cases.filter((g) => g.k >= 2 || g.logits.every(Number.isFinite))) {
    test(g.name, async () => {
      expect(await problems(layerOnWebgpu(g), g, g.k >= 2), `layer on ${g.name}: ${g.description}`).toEqual([]);
    });
  }
});
