/**
 * The published library is exactly the module graph of src/mod.ts (plus README, LICENSE and
 * CHANGELOG), that graph holds no harness module and no file read, and the library runs from a
 * copy of the published files outside the repository, imported by a `file:` URL.
 */
import { describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "./kernels.ts";

const ROOT = PROJECT_ROOT.pathname.replace(/\/$/, "");
const DOCS = ["README.md", "LICENSE", "CHANGELOG.md"];
/** Harness modules: the library must not import them. */
const HARNESS =
  /(^|\/)(golden|cli|runtime_dir|testing|copy_kernel|contraction_probe|subnormal_probe|loop_limit_probe|baselines)\.ts$|\/measure\/|\.test\.ts$/;
/**
 * Reads of file contents a library module must not contain: kernels and data reach the library as
 * modules. (src/webgpu/engine.ts lists /dev/dri and checks that a Vulkan driver manifest exists
 * when Dawn is chosen: probing the machine, not reading the package's data.)
 */
const FILE_READS =
  /Deno\.(readTextFile|readFile|open)(Sync)?\(|readFileSync|readTextFile|fs\.readFile|createReadStream/;

/** saveToDirectory / loadFromDirectory: a model's files, read and written only on the caller's request. */
const MODEL_FILES = "src/model_files.ts";

async function deno(args: string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout) + dec.decode(stderr) };
}

/** Project-relative paths of the local modules src/mod.ts imports, itself included. */
async function libraryGraph(): Promise<string[]> {
  const { code, out } = await deno(["info", "--json", "src/mod.ts"]);
  expect(code, out).toBe(0);
  const info = JSON.parse(out.slice(out.indexOf("{"))) as { modules: { specifier: string }[] };
  return info.modules.map((m) => m.specifier).filter((s) => s.startsWith("file:"))
    .map((s) => decodeURIComponent(new URL(s).pathname).slice(ROOT.length + 1)).sort();
}

describe("the library's module graph", () => {
  test("only library modules under src/, none of the harness, no file reads", async () => {
    const graph = await libraryGraph();
    expect(graph).toContain("src/webgpu/kernel_sources.ts");
    for (const path of graph) {
      expect(path.startsWith("src/"), path).toBe(true);
      expect(HARNESS.test(path), `${path} is a harness module`).toBe(false);
      const text = await Deno.readTextFile(`${ROOT}/${path}`);
      // The one module that touches files does so only when a caller saves or loads a model.
      if (path === MODEL_FILES) continue;
      expect(text.match(FILE_READS)?.[0], `${path} reads files`).toBeUndefined();
    }
  });

  test("deno.json publish.include is exactly that graph plus README, LICENSE and CHANGELOG", async () => {
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
    const graph = await libraryGraph();
    const include = [...config.publish.include].sort();
    expect(include, "update deno.json publish.include to the graph of src/mod.ts").toEqual([...graph, ...DOCS].sort());
    expect(config.exports).toEqual({ ".": "./src/mod.ts" });
    expect(config.version).toMatch(/^0\.\d+\.\d+$/);
    expect(config.license).toBe("MIT");
  });

  test("deno publish --dry-run publishes those files and nothing else", async () => {
    const { code, out } = await deno(["publish", "--dry-run", "--allow-dirty"]);
    expect(code, out).toBe(0);
    const files = [...out.matchAll(/^\s+file:\/\/(\S+) \(/gm)].map((m) => m[1].slice(ROOT.length + 1)).sort();
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
    expect(files).toEqual([...config.publish.include, "deno.json"].sort());
  }, 180_000);
});

describe("the library outside the repository", () => {
  test("a copy of the published files, imported by file: URL, runs the op and the layer", async () => {
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
    const dir = await Deno.makeTempDir({ prefix: "sortpool-copy-" });
    try {
      for (const f of config.publish.include as string[]) {
        await Deno.mkdir(`${dir}/${f}`.replace(/\/[^/]+$/, ""), { recursive: true });
        await Deno.copyFile(`${ROOT}/${f}`, `${dir}/${f}`);
      }
      const modUrl = new URL(`file://${dir}/src/mod.ts`).href;
      const script = `${dir}/use.ts`;
      await Deno.writeTextFile(
        script,
        [
          `import * as tf from "@tensorflow/tfjs";`,
          `const lib = await import(${JSON.stringify(modUrl)});`,
          `await tf.setBackend("cpu");`,
          `const y = lib.sortPool2d(tf.tensor4d([1, 4, 3, 2], [1, 2, 2, 1]), tf.tensor1d([0, 0]), { k: 2, padding: "valid" });`,
          `const model = tf.sequential({ layers: [lib.sortPooling2d({ k: 3, inputShape: [4, 4, 2] }), tf.layers.flatten()] });`,
          `const p = model.predict(tf.ones([1, 4, 4, 2]));`,
          `const ref = await lib.implementation("wgsl").name;`,
          `console.log("RESULT " + JSON.stringify({ y: Array.from(await y.data()), p: p.shape, ref }));`,
        ].join("\n"),
      );
      // The repository's deno.json gives the import map (tfjs); the library's own files come from the copy.
      const { code, out } = await deno(["run", "-A", "--config", `${ROOT}/deno.json`, script]);
      expect(code, out).toBe(0);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      expect(line, out).toBeDefined();
      const result = JSON.parse(line!.slice("RESULT ".length));
      expect(result).toEqual({ y: [3.5], p: [1, 8], ref: "wgsl" });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }, 180_000);
});
