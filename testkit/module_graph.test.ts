import { describe, expect, test } from "vitest";
import { type DenoInfo, type Edge, findCycles, formatCycle, graphFromInfo, type ModuleGraph } from "./module_graph.ts";

const ROOT = new URL("file:///repo/");

/** A graph from `from: to/kind` lines. */
function graph(edges: Record<string, readonly Edge[]>): ModuleGraph {
  return new Map(Object.entries(edges));
}

describe("findCycles", () => {
  test("finds a cycle closed by a type-only import, naming every step and its kind", () => {
    const g = graph({
      "props/properties.ts": [{ to: "props/concurrency.ts", kind: "import" }],
      "props/concurrency.ts": [{ to: "props/properties.ts", kind: "type" }],
      "props/runner.ts": [{ to: "props/properties.ts", kind: "import" }],
    });
    expect(findCycles(g).map(formatCycle)).toEqual([
      "props/concurrency.ts → (import type) props/properties.ts → (import) props/concurrency.ts",
    ]);
  });

  test("finds self-imports, dynamic imports and several components; none in a DAG", () => {
    const g = graph({
      "a.ts": [{ to: "a.ts", kind: "import" }],
      "b.ts": [{ to: "c.ts", kind: "dynamic" }],
      "c.ts": [{ to: "d.ts", kind: "import" }],
      "d.ts": [{ to: "b.ts", kind: "import" }, { to: "e.ts", kind: "import" }],
      "e.ts": [],
    });
    expect(findCycles(g).map(formatCycle)).toEqual([
      "a.ts → (import) a.ts",
      "b.ts → (dynamic import) c.ts → (import) d.ts → (import) b.ts",
    ]);
    expect(findCycles(graph({ "x.ts": [{ to: "y.ts", kind: "type" }], "y.ts": [{ to: "z.ts", kind: "import" }] })))
      .toEqual([]);
  });

  test("the cycle shown is a shortest one through the component's first module", () => {
    const g = graph({
      "a.ts": [{ to: "b.ts", kind: "import" }, { to: "c.ts", kind: "import" }],
      "b.ts": [{ to: "c.ts", kind: "import" }],
      "c.ts": [{ to: "a.ts", kind: "import" }],
    });
    expect(findCycles(g).map(formatCycle)).toEqual([
      "a.ts → (import) c.ts → (import) a.ts (in a tangle of 3 modules, also: b.ts)",
    ]);
    expect(findCycles(g)[0].modules).toEqual(["a.ts", "b.ts", "c.ts"]);
  });
});

describe("graphFromInfo", () => {
  test("keeps the repository's modules and edges (code, type-only, dynamic), drops npm and excluded folders", () => {
    const info: DenoInfo = {
      modules: [
        {
          specifier: "file:///repo/props/a.ts",
          dependencies: [
            { code: { specifier: "file:///repo/props/b.ts" } },
            { type: { specifier: "file:///repo/src/types.ts" } },
            { code: { specifier: "file:///repo/props/c.ts" }, isDynamic: true },
            { code: { specifier: "npm:/fast-check@4.3.0" } },
            { code: { specifier: "file:///repo/node_modules/x/index.ts" } },
          ],
        },
        { specifier: "file:///repo/out/bundle.ts", dependencies: [{ code: { specifier: "file:///repo/props/a.ts" } }] },
      ],
    };
    expect([...graphFromInfo(info, ROOT)]).toEqual([
      ["props/a.ts", [
        { to: "props/b.ts", kind: "import" },
        { to: "src/types.ts", kind: "type" },
        { to: "props/c.ts", kind: "dynamic" },
      ]],
    ]);
  });
});
