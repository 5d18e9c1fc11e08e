/**
 * No import cycle anywhere in the repository's TypeScript (node_modules, out/, esm/ and browser/
 * left out), type-only and dynamic imports included: the graph is Deno's own (`deno info --json`
 * with the repository's deno.json), so every import Deno resolves is an edge.
 */
import { describe, expect, test } from "vitest";
import { findCycles, formatCycle, moduleGraph, typeScriptModules } from "./module_graph.ts";

const ROOT = new URL("../", import.meta.url);

describe("the repository's module graph", () => {
  test("has no import cycle (type-only and dynamic imports count)", async () => {
    const modules = await typeScriptModules(ROOT);
    const graph = await moduleGraph(ROOT, modules);
    // The graph holds every module walked, and type-only imports as edges (testkit/windows.ts has
    // one, of src/validate.ts's ValidCase): a graph without them would find no type-only cycle.
    expect(modules.filter((m) => !graph.has(m))).toEqual([]);
    expect(graph.get("testkit/windows.ts")).toContainEqual({ to: "src/validate.ts", kind: "type" });
    expect(findCycles(graph).map(formatCycle)).toEqual([]);
  });
});
