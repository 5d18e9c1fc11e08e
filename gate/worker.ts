/**
 * A gate worker: loads one tree's registry (`<tree>/src/registry.ts`) in a process of its own and
 * times its entries' bench handles when the gate (gate/gate.ts) asks, one sample at a time, with the
 * measurement core of the tree the gate runs from (harness/measure/). Started by gate/workers.ts; the
 * protocol is in gate/protocol.ts.
 *
 *   deno run -A --config <gate tree>/deno.json gate/worker.ts --tree DIR
 *
 * The tree's modules are imported by file URL and resolve their packages through the gate tree's
 * configuration, so both trees run on the same installed packages (node_modules) whatever the
 * base commit's lock file says. A tree whose registry does not load (older layout, a package the
 * gate tree lacks) says so in its hello; the gate then reports its entries as not compared.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { defineCli, runCli, UsageError } from "../harness/cli.ts";
import { timeCall } from "../harness/measure/clocks.ts";
import type { BenchHandle, Implementation } from "../src/types.ts";
import { describeAdapter, engineInfo } from "../src/webgpu/engine.ts";
import { type EntryInfo, type Hello, LINE_MARK, readLines, type Reply, type Request, writeAll } from "./protocol.ts";
import type { WorkerHello } from "./workers.ts";
import { caseFromSpec } from "./workload.ts";

// Only protocol lines go to stdout: whatever the timed code prints goes to stderr.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const CLI = defineCli({
  command: "deno run -A gate/worker.ts",
  summary: "A gate worker process (started by deno task gate; not meant to be run by hand). Speaks the line " +
    "protocol of gate/protocol.ts on stdin and stdout.",
  options: { tree: { type: "string", value: "DIR", description: "root of the tree whose registry to load" } },
});

function send(line: object): Promise<void> {
  return writeAll((b) => Deno.stdout.write(b), `${LINE_MARK}${JSON.stringify(line)}\n`);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Imports the tree's registry; the entries, or why they could not be loaded. */
async function loadRegistry(tree: string): Promise<{ entries: Implementation[]; error?: string }> {
  const url = new URL("src/registry.ts", pathToFileURL(tree.replace(/\/*$/, "/")));
  try {
    const mod = await import(url.href);
    const table: unknown = mod.implementations;
    if (!Array.isArray(table)) {
      return { entries: [], error: `${tree}/src/registry.ts exports no "implementations" array` };
    }
    return { entries: table as Implementation[] };
  } catch (e) {
    return { entries: [], error: `importing ${tree}/src/registry.ts failed: ${message(e)}` };
  }
}

function describe(i: Implementation): EntryInfo {
  const gated = (i as { gated?: unknown }).gated;
  return {
    name: i.name,
    gated: "gated" in i ? gated === true : null,
    device: i.device,
    bench: typeof i.prepareBench === "function",
  };
}

async function serve(tree: string): Promise<number> {
  const { entries, error } = await loadRegistry(tree);
  let adapter: Hello["adapter"] = null;
  let noAdapter: string | undefined;
  let adapterLine: string | undefined;
  try {
    const a = await navigator.gpu?.requestAdapter();
    if (a) {
      adapter = { description: a.info.description, vendor: a.info.vendor, isFallbackAdapter: a.info.isFallbackAdapter };
      adapterLine = describeAdapter(a);
    } else noAdapter = navigator.gpu ? "navigator.gpu.requestAdapter() returned null" : "no navigator.gpu";
  } catch (e) {
    noAdapter = `navigator.gpu.requestAdapter() threw: ${message(e)}`;
  }
  const hello: WorkerHello = {
    tree,
    entries: entries.map(describe),
    ...(error ? { loadError: error } : {}),
    adapter,
    ...(noAdapter ? { noAdapter } : {}),
    engine: engineInfo(),
    ...(adapterLine ? { adapterLine } : {}),
    denoWebgpuBackend: Deno.env.get("DENO_WEBGPU_BACKEND") ?? "",
  };
  await send({ hello });

  const handles = new Map<string, BenchHandle>();
  const used = new Set<Implementation>();
  for await (const line of readLines(Deno.stdin.readable)) {
    if (line.trim() === "") continue;
    let request: Request;
    try {
      request = JSON.parse(line) as Request;
    } catch (e) {
      console.error(`worker: ignoring a line that is not JSON: ${message(e)}`);
      continue;
    }
    let reply: Reply;
    try {
      reply = await answer(request);
    } catch (e) {
      reply = { id: request.id, ok: false, error: message(e) };
    }
    await send({ reply });
    if (request.op === "exit") break;
  }
  return 0;

  async function answer(r: Request): Promise<Reply> {
    switch (r.op) {
      case "prepare": {
        const entry = entries.find((i) => i.name === r.entry);
        if (!entry?.prepareBench) throw new Error(`no entry "${r.entry}" with prepareBench in ${tree}`);
        await handles.get(r.handle)?.dispose();
        used.add(entry);
        handles.set(r.handle, await entry.prepareBench(caseFromSpec(r.case)));
        return { id: r.id, ok: true };
      }
      case "measure": {
        const h = handles.get(r.handle);
        if (!h) throw new Error(`no prepared handle "${r.handle}"`);
        const { readings } = await timeCall(() => h[r.pass](), r.repetitions);
        return { id: r.id, ok: true, readings };
      }
      case "dispose": {
        await handles.get(r.handle)?.dispose();
        handles.delete(r.handle);
        return { id: r.id, ok: true };
      }
      case "exit": {
        for (const h of handles.values()) await h.dispose();
        handles.clear();
        for (const i of used) await i.dispose?.();
        return { id: r.id, ok: true };
      }
      default:
        throw new Error(`unknown op ${JSON.stringify((r as { op?: unknown }).op)}`);
    }
  }
}

if (import.meta.main) {
  await runCli(CLI, Deno.args, async ({ values }) => {
    if (typeof values.tree !== "string" || values.tree === "") throw new UsageError("--tree", "a directory", "nothing");
    return await serve(values.tree);
  });
}
