/**
 * Finds the roofline workload of issue 4 (src/webgpu/): an exported
 * `prepareRooflineBench(shape, padding?)` returning a BenchHandle whose `forward` moves the
 * forward pass's minimum bytes and whose `forwardBackward` moves those of forward + backward,
 * with no ranking work. Looked up at run time, so the benchmarks run (and say why the column is
 * empty) while the export does not exist yet.
 *
 * @module
 */
import type { BenchHandle, Padding, Shape4 } from "../src/types.ts";

/** Name of the export looked for. */
export const ROOFLINE_EXPORT = "prepareRooflineBench";

/** A usable roofline factory, or why there is none. */
export type RooflineFactory =
  | {
    readonly available: true;
    readonly prepare: (shape: Shape4, padding: Padding) => Promise<BenchHandle>;
    /** Module the factory came from, relative to the repository root. */
    readonly source: string;
  }
  | { readonly available: false; readonly reason: string };

/**
 * Scans src/webgpu/*.ts (tests excluded) for a file whose text exports `prepareRooflineBench`,
 * imports it and returns the function. Only files mentioning the name are imported.
 */
export async function findRooflineFactory(): Promise<RooflineFactory> {
  const dir = new URL("../src/webgpu/", import.meta.url);
  const candidates: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
      const text = await Deno.readTextFile(new URL(entry.name, dir));
      if (new RegExp(`export\\s+(async\\s+)?(function|const|let)\\s+${ROOFLINE_EXPORT}\\b`).test(text)) {
        candidates.push(entry.name);
      }
    }
  } catch (e) {
    return { available: false, reason: `could not read src/webgpu/: ${e instanceof Error ? e.message : e}` };
  }
  if (candidates.length === 0) {
    return { available: false, reason: `no module in src/webgpu/ exports ${ROOFLINE_EXPORT} (issue 4) yet` };
  }
  candidates.sort();
  const file = candidates[0];
  try {
    const mod = await import(new URL(file, dir).href);
    const fn = mod[ROOFLINE_EXPORT];
    if (typeof fn !== "function") {
      return { available: false, reason: `src/webgpu/${file}: ${ROOFLINE_EXPORT} is not a function` };
    }
    return {
      available: true,
      prepare: (shape, padding) => fn(shape, padding) as Promise<BenchHandle>,
      source: `src/webgpu/${file}`,
    };
  } catch (e) {
    return {
      available: false,
      reason: `importing src/webgpu/${file} failed: ${e instanceof Error ? e.message : e}`,
    };
  }
}
