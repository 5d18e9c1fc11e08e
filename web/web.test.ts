/**
 * The browser harness page's pieces that run outside a browser: the planted variants still apply
 * to the current kernels, the golden requests cover every case, the checks judge answers as the
 * conformance kit does (the reference passes; the planted kernel fails with the kit's report, here
 * on Deno's WebGPU), and the page server serves a built folder. The page itself runs in headless
 * Chromium in `deno task test:browser` (web/browser_test.ts).
 */
import { afterAll, describe, expect, test } from "vitest";
import { GOLDEN_URL } from "../vectors/golden.ts";
import { implementation } from "../src/registry.ts";
import { kernelSources } from "../src/webgpu/shaders.ts";
import { createWgslImplementation } from "../src/webgpu/wgsl.ts";
import { passingProblems, plantedProblems } from "./browser_test.ts";
import { entrySubject, goldenRequests, propertyRequests, runCheck } from "./checks.ts";
import { plantNamed, PLANTS } from "./plant.ts";
import { DEFAULT_SEED, parseParams } from "./params.ts";
import { serveMain, servePage } from "./serve.ts";

const golden = goldenRequests(await Deno.readTextFile(GOLDEN_URL));
const planted = createWgslImplementation({ name: "wgsl", shaders: plantNamed("wrong-weights-order").shaders() });
afterAll(() => planted.dispose());

describe("planted variants", () => {
  test("each changes the kernels it names, and only those", () => {
    const base = kernelSources();
    for (const p of PLANTS) {
      const shaders = p.shaders();
      expect(Object.keys(shaders).length, p.name).toBeGreaterThan(0);
      for (const [key, text] of Object.entries(shaders)) {
        expect(text, `${p.name}: ${key}`).not.toBe(base[key as keyof typeof base]);
      }
    }
    expect(() => plantNamed("nope")).toThrow(/known: wrong-weights-order/);
  });
});

describe("checks", () => {
  test("golden requests: a forward and a gradient request for every case, unique names", () => {
    expect(golden.length).toBe(2 * 78);
    expect(new Set(golden.map((c) => c.name)).size).toBe(golden.length);
    expect(golden.filter((c) => c.request.op === "gradient").every((c) => Array.isArray(c.request.dy))).toBe(true);
  });

  test("the property subset is seeded: the same seed gives the same requests, and covers the classes", () => {
    const a = propertyRequests(7, 1), b = propertyRequests(7, 1);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const categories = new Set(a.map((c) => c.category));
    for (const c of ["ties", "nonfinite-x", "nonfinite-dy", "overlap", "per-channel"]) {
      expect(categories.has(c)).toBe(true);
    }
  });

  test("the float64 reference passes every golden request", async () => {
    const r = await runCheck("golden", entrySubject(implementation("reference")), golden);
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(golden.length);
  });

  test("the planted kernel fails 2x2 forward requests, with the conformance kit's report", async () => {
    const cases = golden.filter((c) =>
      c.request.poolSize === undefined && c.request.op === "forward" && c.request.k > 1
    )
      .slice(0, 3);
    const r = await runCheck("golden", entrySubject(planted), cases);
    expect(r.failed).toBe(cases.length);
    expect(r.failures[0].report.join("\n")).toMatch(/forward: first difference at y\[\d+\]/);
    expect(r.failures[0].replay).toMatch(/^\{"id":"golden\//);
  });
});

describe("browser test verdicts", () => {
  test("a run without checks or benchmark rows does not pass; a planted run that passes is flagged", () => {
    expect(passingProblems(null, "done")).toContain("window.sortpoolResults is missing");
    const empty = { environment: { adapter: { available: true }, adapterLine: "x" }, checks: { results: [] } };
    expect(passingProblems(empty, "done").join("\n")).toMatch(/golden: expected checks on 2 subjects/);
    expect(plantedProblems({ plant: { name: "p" }, checks: { results: [] } }, "done", 0)).toEqual(
      expect.arrayContaining([
        'data-state is "done", expected "failed"',
        "golden on wgsl: no failure reported",
        "the page shows no failure block",
      ]),
    );
  });
});

describe("deno task serve", () => {
  test("serves a built folder on localhost: index.html at /, 404 elsewhere, no path escapes", async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/index.html`, "<p>hi</p>");
    const server = servePage(dir, 0);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const index = await fetch(server.url);
      expect(index.headers.get("content-type")).toMatch(/text\/html/);
      expect(await index.text()).toBe("<p>hi</p>");
      const missing = await fetch(`${server.url}nope.js`);
      expect(missing.status).toBe(404);
      await missing.body?.cancel();
      // A malformed percent-escape is a bad request, not a crash of the handler.
      const malformed = await fetch(`${server.url}%ZZ`);
      expect(malformed.status).toBe(400);
      await malformed.body?.cancel();
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

describe("deno task serve on a busy port", () => {
  test("says the port is in use, names --port, exits 2 (no stack trace)", async () => {
    const dir = await Deno.makeTempDir();
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const errors: string[] = [];
    const original = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    try {
      const port = String((busy.addr as Deno.NetAddr).port);
      const code = await serveMain({ values: { port, "no-build": true }, positionals: [], help: false });
      expect(code).toBe(2);
      expect(errors.join("\n")).toMatch(new RegExp(`port ${port} .*in use.*--port`));
    } finally {
      console.error = original;
      busy.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

describe("the page's query parameters", () => {
  test("defaults, and the documented values", () => {
    expect(parseParams("")).toEqual({
      params: { quick: false, benchOn: true, seed: DEFAULT_SEED, perClass: 4, plant: null },
      errors: [],
    });
    for (const q of ["?quick", "?quick=", "?quick=1"]) expect(parseParams(q).params.quick, q).toBe(true);
    expect(parseParams("?quick=0").params.quick).toBe(false);
    expect(parseParams("?quick").params.perClass).toBe(2);
    expect(parseParams("?bench=0").params.benchOn).toBe(false);
    expect(parseParams("?bench=1").params.benchOn).toBe(true);
    expect(parseParams("?seed=0&cases=1").params).toMatchObject({ seed: 0, perClass: 1 });
    expect(parseParams("?seed=4294967295&cases=1000").params).toMatchObject({ seed: 4294967295, perClass: 1000 });
    expect(parseParams("?quick&bench=0&plant=wrong-weights-order").errors).toEqual([]);
  });

  test("junk values are named errors: the parameter, what it takes, what it got", () => {
    const bad: [string, RegExp][] = [
      ["?cases=abc", /\?cases takes an integer from 1 to 1000 \(got "abc"\)/],
      ["?cases=-1", /\?cases .*got "-1"/],
      ["?cases=0", /\?cases .*got "0"/],
      ["?cases=1.5", /\?cases .*got "1.5"/],
      ["?cases=", /\?cases .*got ""/],
      ["?cases=1001", /\?cases .*got "1001"/],
      ["?seed=abc", /\?seed takes an integer from 0 to 4294967295 \(got "abc"\)/],
      ["?seed=4294967296", /\?seed .*got "4294967296"/],
      ["?seed=99999999999999999999999", /\?seed .*got "99999999999999999999999"/],
      ["?seed=-3", /\?seed .*got "-3"/],
      ["?quick=false", /\?quick takes no value, "1" or "0" \(got "false"\)/],
      ["?quick=yes", /\?quick .*got "yes"/],
      ["?bench=false", /\?bench takes "0" \(no benchmark\) or "1" \(got "false"\)/],
      ["?bench=no", /\?bench .*got "no"/],
      ["?bench=-1", /\?bench .*got "-1"/],
      ["?bench=", /\?bench .*got ""/],
      ["?cases=2&cases=3", /\?cases is given 2 times/],
      ["?case=2", /unknown parameter \?case/],
    ];
    for (const [q, re] of bad) {
      const { errors } = parseParams(q);
      expect(errors.length, q).toBe(1);
      expect(errors[0], q).toMatch(re);
    }
  });
});
