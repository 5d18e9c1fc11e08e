/**
 * Slowed copies of the working tree for `deno task gate --self-test`: proof that the gate can fail,
 * and that it passes what it should.
 *
 * A slowed tree is a copy of the working tree's `src/` and `kernels/` in a temporary directory
 * with some kernel files rewritten by gate/slowdown.ts (the body run twice, or a chosen amount of
 * extra work per invocation). The gate then times the slowed tree against the working tree exactly as it times the
 * working tree against a base commit: every gated entry, through its own registry, in worker
 * processes. Which files are "the forward kernels" comes from src/webgpu/shaders.ts
 * (`KERNEL_FILES`), not from a list here.
 *
 * @module
 */
import { KERNEL_FILES, type KernelSources } from "../src/webgpu/shaders.ts";
import { generateKernelModule, KERNEL_MODULE_PATH } from "../build/kernels.ts";
import { addIdWork, runEntryPointTwice } from "./slowdown.ts";

/** The kernels a slowed variant rewrites, by the pass whose kernels they are. */
export const SLOWED_KERNELS: Readonly<Record<"forward" | "backward", readonly (keyof KernelSources)[]>> = {
  forward: ["forward", "forwardVec4"],
  backward: ["backward", "backwardVec4"],
};

/** How a slowed tree's kernels are slowed: body run twice, or `work` hash steps per invocation. */
export type Slowdown = { readonly kind: "twice" } | { readonly kind: "work"; readonly steps: number };

/** Short description of a slowdown for labels, e.g. "x2" or "+16 steps". */
export function slowdownLabel(s: Slowdown): string {
  return s.kind === "twice" ? "body x2" : `+${s.steps} hash steps`;
}

/** The WGSL transform of a slowdown. */
export function slowdownTransform(s: Slowdown): (source: string) => string {
  return s.kind === "twice" ? runEntryPointTwice : (source) => addIdWork(source, s.steps);
}

/** Directories of a tree its registry needs (the gate's workers import `src/registry.ts`; kernels/ is its source). */
const TREE_DIRS = ["src", "kernels"] as const;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/**
 * Copies `root`'s `src/` and `kernels/` into a new temporary directory and rewrites the kernels
 * of `which` pass with the transform of `slowdown`. Returns the directory; the caller removes it.
 * Throws when a kernel cannot be transformed.
 */
export async function slowedTree(root: string, which: "forward" | "backward", slowdown: Slowdown): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `sortpool-gate-slow-${which}-` });
  try {
    for (const d of TREE_DIRS) await copyDir(`${root}/${d}`, `${dir}/${d}`);
    for (const key of SLOWED_KERNELS[which]) {
      const path = `${dir}/kernels/${KERNEL_FILES[key]}`;
      await Deno.writeTextFile(path, slowdownTransform(slowdown)(await Deno.readTextFile(path)));
    }
    // The library takes its kernels from the module generated from kernels/, not from the files:
    // regenerate the copy's module so that its registry runs the slowed kernels.
    const module = `${dir}/${KERNEL_MODULE_PATH}`;
    if (await Deno.stat(module).then(() => true, () => false)) {
      await Deno.writeTextFile(module, await generateKernelModule(dir));
    }
    return dir;
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}
