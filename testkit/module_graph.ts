/**
 * The repository's module graph as Deno resolves it (`deno info --json`), and the import cycles in
 * it. Every kind of import is an edge: `import`, `import type` / `export type` (a type-only cycle
 * still ties the modules' type checking and reading together), and dynamic `import()`.
 *
 * @module
 */

/** How one module refers to another. */
export type EdgeKind = "import" | "type" | "dynamic";

/** One import: the module it names, and how. */
export interface Edge {
  readonly to: string;
  readonly kind: EdgeKind;
}

/** Modules (repository-relative paths) and the repository modules each imports. */
export type ModuleGraph = ReadonlyMap<string, readonly Edge[]>;

/** Directories never walked: dependencies, build outputs and bundles. */
export const EXCLUDED_DIRECTORIES: readonly string[] = ["node_modules", "out", "esm", "browser"];

/** Whether a file name is a TypeScript module. */
function isTypeScript(name: string): boolean {
  return /\.(ts|mts|tsx)$/.test(name) && !name.endsWith(".d.ts");
}

/**
 * Every TypeScript module under `root` (a directory URL), repository-relative and sorted; hidden
 * and excluded directories are skipped.
 */
export async function typeScriptModules(root: URL): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      if (entry.name.startsWith(".")) continue;
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory && !EXCLUDED_DIRECTORIES.includes(entry.name)) await walk(`${path}/`);
      else if (entry.isFile && isTypeScript(entry.name)) found.push(path);
    }
  };
  await walk("");
  return found.sort();
}

/** The part of `deno info --json` output read here. */
export interface DenoInfo {
  readonly modules: readonly {
    readonly specifier: string;
    readonly dependencies?: readonly {
      readonly code?: { readonly specifier?: string };
      readonly type?: { readonly specifier?: string };
      readonly isDynamic?: boolean;
    }[];
  }[];
}

/**
 * The graph of `modules` (repository-relative paths under `root`) and everything they import in the
 * repository, from one `deno info --json` over a temporary module that imports them all, resolved
 * with the repository's deno.json (its import map). Imports outside the repository (npm:, jsr:,
 * node:) are left out. Throws with Deno's message when `deno info` fails.
 */
export async function moduleGraph(root: URL, modules: readonly string[]): Promise<ModuleGraph> {
  const dir = await Deno.makeTempDir({ prefix: "sortpool-module-graph-" });
  try {
    const entry = `${dir}/all_modules.ts`;
    await Deno.writeTextFile(entry, modules.map((m) => `import ${JSON.stringify(new URL(m, root).href)};`).join("\n"));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", root).pathname, entry],
      cwd: new URL(".", root).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`deno info failed (exit ${code}): ${new TextDecoder().decode(stderr)}`);
    return graphFromInfo(JSON.parse(new TextDecoder().decode(stdout)) as DenoInfo, root);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The repository's modules and edges in `info`, as repository-relative paths. */
export function graphFromInfo(info: DenoInfo, root: URL): ModuleGraph {
  const prefix = root.href;
  const local = (specifier: string | undefined) => {
    if (specifier === undefined || !specifier.startsWith(prefix)) return undefined;
    const path = specifier.slice(prefix.length);
    return path.split("/").some((part) => EXCLUDED_DIRECTORIES.includes(part)) ? undefined : path;
  };
  const graph = new Map<string, Edge[]>();
  for (const m of info.modules) {
    const from = local(m.specifier);
    if (from === undefined) continue;
    const edges: Edge[] = [];
    for (const d of m.dependencies ?? []) {
      const code = local(d.code?.specifier);
      const type = local(d.type?.specifier);
      if (code !== undefined) edges.push({ to: code, kind: d.isDynamic ? "dynamic" : "import" });
      if (type !== undefined && type !== code) edges.push({ to: type, kind: "type" });
    }
    graph.set(from, edges);
  }
  return graph;
}

/** One step of a cycle: the importing module and its import. */
export interface Step {
  readonly from: string;
  readonly edge: Edge;
}

/** Modules that import each other (a strongly connected component), and one cycle through them. */
export interface Cycle {
  /** Every module of the component, sorted. */
  readonly modules: readonly string[];
  /** A shortest cycle from the component's first module back to it. */
  readonly path: readonly Step[];
}

/**
 * One cycle per strongly connected component of `graph` that has one (two or more modules, or a
 * module importing itself), sorted by the component's first module. Empty when the graph has no
 * cycle.
 */
export function findCycles(graph: ModuleGraph): Cycle[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const nodes = [...new Set([...graph.keys(), ...[...graph.values()].flatMap((es) => es.map((e) => e.to))])].sort();
  // Tarjan's algorithm, iterative: the repository's import chains can be deep.
  for (const start of nodes) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, index.size);
    low.set(start, index.get(start)!);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const edges = graph.get(top.node) ?? [];
      if (top.next < edges.length) {
        const to = edges[top.next++].to;
        if (!index.has(to)) {
          index.set(to, index.size);
          low.set(to, index.get(to)!);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        components.push(component.sort());
      }
    }
  }
  return components
    .filter((c) => c.length > 1 || (graph.get(c[0]) ?? []).some((e) => e.to === c[0]))
    .map((c) => ({ modules: c, path: cycleThrough(graph, new Set(c), c[0]) }))
    .sort((a, b) => (a.modules[0] < b.modules[0] ? -1 : 1));
}

/** A shortest path of edges from `start` back to itself inside `component` (breadth first). */
function cycleThrough(graph: ModuleGraph, component: ReadonlySet<string>, start: string): Step[] {
  const previous = new Map<string, Step>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const edge of graph.get(node) ?? []) {
      if (!component.has(edge.to) || previous.has(edge.to)) continue;
      previous.set(edge.to, { from: node, edge });
      if (edge.to === start) {
        const path: Step[] = [];
        for (let at = start; path.length === 0 || at !== start;) {
          const step = previous.get(at)!;
          path.unshift(step);
          at = step.from;
        }
        return path;
      }
      queue.push(edge.to);
    }
  }
  throw new Error(`no cycle through ${start}: not a strongly connected component`);
}

/**
 * A cycle as one line, `a.ts → (import type) b.ts → (import) a.ts`, followed by the rest of its
 * component when more modules import each other than the cycle shows (breaking the cycle shown
 * may leave another among them).
 */
export function formatCycle(cycle: Cycle): string {
  const label: Record<EdgeKind, string> = { import: "import", type: "import type", dynamic: "dynamic import" };
  const line = [cycle.path[0].from, ...cycle.path.map((s) => `(${label[s.edge.kind]}) ${s.edge.to}`)].join(" → ");
  const shown = new Set(cycle.path.map((s) => s.from));
  const others = cycle.modules.filter((m) => !shown.has(m));
  return others.length === 0
    ? line
    : `${line} (in a tangle of ${cycle.modules.length} modules, also: ${others.join(", ")})`;
}
