/**
 * The browser harness page's pieces that run outside a browser: the planted variants still apply
 * to the current kernels, the golden requests cover every case, the checks judge answers as the
 * conformance kit does (the reference passes; the planted kernel fails with the kit's report, here
 * on Deno's WebGPU), and the page server serves a built folder. The page itself runs in headless
 * Chromium in `deno task test:browser` (web/browser_test.ts).
 */
import { afterAll, describe, expect, test } from "vitest";
import { GOLDEN_URL } from "../src/golden.ts";
import { implementation } from "../src/registry.ts";
import { kernelSources } from "../src/webgpu/shaders.ts";
import { createWgslImplementation } from "../src/webgpu/wgsl.ts";
import { passingProblems, plantedProblems } from "./browser_test.ts";
import { entrySubject, goldenRequests, propertyRequests, runCheck } from "./checks.ts";
import { plantNamed, PLANTS } from "./plant.ts";
import { servePage } from "./serve.ts";

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
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
});
