/**
 * `deno task build [--out DIR]`: the npm package of the library, built with Deno's own bundler.
 *
 * Writes into DIR (default `out/npm`, printed on the last line, ready for `npm pack`):
 *
 * - `esm/mod.js`: the library (src/mod.ts and the modules it imports, kernels included through
 *   src/webgpu/kernel_sources.ts) as one ES module for Node (and Deno), with tfjs left as imports
 *   of the peer dependencies `@tensorflow/tfjs` and `@tensorflow/tfjs-backend-webgpu`;
 * - `esm/mod.d.ts`: its declarations (`deno bundle --declaration`, then tidied: see
 *   {@link tidyDeclarations});
 * - `browser/mod.js`: the same library bundled for browsers (`--platform browser`), with the few
 *   Node built-ins the library imports replaced by the stand-ins in build/shims/;
 * - `package.json` (name and version from deno.json), README.md, LICENSE, CHANGELOG.md.
 *
 * Before bundling it regenerates src/webgpu/kernel_sources.ts from kernels/ (build/kernels.ts),
 * so the package always carries the `.wgsl` files as they are.
 *
 * @module
 */
import { generateKernelModule, KERNEL_MODULE_PATH, PROJECT_ROOT, writeKernelModule } from "./kernels.ts";

/** The library's entry point, relative to the project root. */
export const ENTRY = "src/mod.ts";

/** npm packages the library imports that stay imports in the bundles (peer dependencies). */
export const PEER_PACKAGES = ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-webgpu"] as const;

/** The engine package, loaded only by `useEngine("dawn")` (an optional peer dependency). */
export const OPTIONAL_PEER_PACKAGES = ["webgpu"] as const;

/** Node built-ins the library imports, and their browser stand-ins in build/shims/. */
export const BROWSER_SHIMS: Readonly<Record<string, string>> = {
  "node:async_hooks": "shims/async_hooks.ts",
  "node:path": "shims/path.ts",
  "node:url": "shims/url.ts",
  "node:fs": "shims/fs.ts",
  "node:fs/promises": "shims/fs_promises.ts",
};

/** The files `npm pack` takes from the built directory. */
export const PACKAGE_FILES = ["esm", "browser", "README.md", "LICENSE", "CHANGELOG.md"] as const;

interface DenoConfig {
  name: string;
  version: string;
  license: string;
  imports: Record<string, string>;
}

/** deno.json of the project. */
export async function readDenoConfig(): Promise<DenoConfig> {
  return JSON.parse(await Deno.readTextFile(new URL("deno.json", PROJECT_ROOT)));
}

/** The npm version range of a package pinned in deno.json's imports (`npm:name@1.2.3` -> `^1.2.3`). */
export function peerRange(imports: Record<string, string>, name: string): string {
  const spec = imports[name];
  const m = spec?.match(/^npm:(?:@[^/]+\/)?[^@]+@(.+)$/);
  if (!m) throw new Error(`deno.json imports: no npm: pin for ${name} (found ${JSON.stringify(spec)})`);
  const version = m[1];
  return /^\d+\.\d+\.\d+$/.test(version) ? `^${version}` : version;
}

/** package.json of the npm package. */
export function packageJson(config: DenoConfig): Record<string, unknown> {
  const npmName = config.name;
  const peers = Object.fromEntries(
    [...PEER_PACKAGES, ...OPTIONAL_PEER_PACKAGES].map((p) => [p, peerRange(config.imports, p)]),
  );
  return {
    name: npmName,
    version: config.version,
    description: "sort_pool2d (max pooling's generalisation) for TensorFlow.js: an op, a tf.layers layer, " +
      "WGSL kernels for the webgpu backend and a float64 reference",
    license: config.license,
    keywords: ["tensorflow", "tfjs", "pooling", "sort-pooling", "webgpu", "wgsl", "layer"],
    type: "module",
    sideEffects: true,
    exports: {
      ".": {
        types: "./esm/mod.d.ts",
        browser: "./browser/mod.js",
        default: "./esm/mod.js",
      },
      "./package.json": "./package.json",
    },
    main: "./esm/mod.js",
    types: "./esm/mod.d.ts",
    browser: "./browser/mod.js",
    files: [...PACKAGE_FILES],
    engines: { node: ">=20" },
    peerDependencies: peers,
    peerDependenciesMeta: Object.fromEntries(OPTIONAL_PEER_PACKAGES.map((p) => [p, { optional: true }])),
  };
}

/**
 * Tidies the declarations `deno bundle --declaration` writes (it concatenates every module's
 * declarations): drops imports of the project's own modules (their declarations are in the same
 * file), and takes `export` off every value the bundle's JavaScript does not export, so the types
 * promise only what `mod.js` has. Types and interfaces stay exported (they cost nothing at run
 * time, and `src/mod.ts` re-exports its type modules whole).
 */
export function tidyDeclarations(dts: string, jsExports: ReadonlySet<string>): string {
  const lines = dropShadowedFunctions(
    dedupeNamespaceImports(dts.split("\n").filter((line) => !/^import .* from "\.{1,2}\/.*";$/.test(line))),
  );
  return lines.map((line) => {
    const value = line.match(/^export (declare (?:const|let|function|class|enum|abstract class) )(\w+)/);
    if (value && !jsExports.has(value[2])) return line.replace(/^export /, "");
    const list = line.match(/^export \{ (.*) \};$/);
    if (list) {
      const kept = list[1].split(",").map((s) => s.trim()).filter((name) =>
        jsExports.has(name.split(/\s+as\s+/).pop()!)
      );
      return kept.length ? `export { ${kept.join(", ")} };` : "";
    }
    return line;
  }).join("\n");
}

/**
 * Keeps one namespace import per name: the concatenated declarations of several modules may import
 * the same package both as `import * as tf` and `import type * as tf`, which TypeScript rejects as
 * a duplicate identifier. The value import is kept (it also provides the types).
 */
function dedupeNamespaceImports(lines: string[]): string[] {
  const pattern = /^import (type )?\* as (\w+) from "([^"]+)";$/;
  const valueImports = new Set<string>();
  for (const line of lines) {
    const m = line.match(pattern);
    if (m && !m[1]) valueImports.add(m[2]);
  }
  const seen = new Set<string>();
  return lines.filter((line) => {
    const m = line.match(pattern);
    if (!m) return true;
    if (m[1] && valueImports.has(m[2])) return false;
    if (seen.has(m[2])) return false;
    seen.add(m[2]);
    return true;
  });
}

/**
 * Keeps only the last `export declare function NAME` of each name, with its JSDoc: the entry
 * module's own function (it comes last) where it wraps another module's function of the same
 * name, which the bundler renamed in the JavaScript but the concatenated declarations keep.
 */
function dropShadowedFunctions(lines: string[]): string[] {
  const fn = (line: string) => line.match(/^export declare function (\w+)\b/)?.[1];
  const last = new Map<string, number>();
  lines.forEach((line, i) => {
    const name = fn(line);
    if (name) last.set(name, i);
  });
  const drop = new Set<number>();
  lines.forEach((line, i) => {
    const name = fn(line);
    if (!name || last.get(name) === i) return;
    drop.add(i);
    if (lines[i - 1]?.trim() === "*/") {
      let j = i - 1;
      while (j >= 0 && !lines[j].trim().startsWith("/**")) drop.add(j--);
      drop.add(j);
    }
  });
  return lines.filter((_, i) => !drop.has(i));
}

/** The names a bundle exports, from its final `export { a, b as c };` statement. */
export function bundleExports(js: string): Set<string> {
  const names = new Set<string>();
  for (const m of js.matchAll(/^export \{([^}]*)\};?$/gm)) {
    for (const part of m[1].split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop();
      if (name) names.add(name);
    }
  }
  return names;
}

async function denoBundle(args: string[]): Promise<void> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["bundle", ...args],
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0) throw new Error(`deno bundle ${args.join(" ")} exited with code ${code}`);
}

/**
 * A config for `deno bundle` next to the project's node_modules: deno.json's imports (plus
 * `extraImports`), and compiler options for the declaration emit, which type-checks the npm
 * packages' own declarations too (tfjs's need the DOM types; two versions of @webgpu/types
 * disagree with Deno's, hence skipLibCheck). Returns its path.
 */
async function bundleConfig(name: string, extraImports: Record<string, string>): Promise<string> {
  const config = await readDenoConfig();
  const dir = new URL(`out/.build/${name}/`, PROJECT_ROOT);
  await Deno.mkdir(dir, { recursive: true });
  const path = new URL("deno.json", dir);
  await Deno.writeTextFile(
    path,
    JSON.stringify(
      {
        imports: { ...config.imports, ...extraImports },
        nodeModulesDir: "manual",
        compilerOptions: { skipLibCheck: true, lib: ["deno.window", "dom", "dom.iterable"] },
      },
      null,
      2,
    ),
  );
  return path.pathname;
}

/**
 * Builds the package into `out` (a path); returns its absolute path. With `checkKernels`, a stale
 * src/webgpu/kernel_sources.ts is an error instead of being regenerated (tests and CI build what
 * is committed).
 */
export async function build(out: string, checkKernels = false): Promise<string> {
  const outDir = out.startsWith("/") ? out : new URL(out, PROJECT_ROOT).pathname;
  if (checkKernels) {
    const current = await Deno.readTextFile(new URL(KERNEL_MODULE_PATH, PROJECT_ROOT)).catch(() => "");
    if (current !== (await generateKernelModule(PROJECT_ROOT))) {
      throw new Error(`${KERNEL_MODULE_PATH} differs from kernels/*.wgsl: run deno task kernels`);
    }
  } else {
    const changed = await writeKernelModule(PROJECT_ROOT);
    console.log(`${KERNEL_MODULE_PATH}: ${changed ? "regenerated from kernels/" : "up to date"}`);
  }

  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  const externals = PEER_PACKAGES.flatMap((p) => ["--external", p]);

  const nodeConfig = await bundleConfig("node", {});
  await denoBundle([
    "--config",
    nodeConfig,
    "--platform",
    "deno",
    "--format",
    "esm",
    ...externals,
    "--declaration",
    "--output",
    `${outDir}/esm/mod.js`,
    ENTRY,
  ]);
  const shims = Object.fromEntries(
    Object.entries(BROWSER_SHIMS).map(([k, v]) => [k, new URL(v, import.meta.url).href]),
  );
  const browserConfig = await bundleConfig("browser", shims);
  await denoBundle([
    "--config",
    browserConfig,
    "--platform",
    "browser",
    "--format",
    "esm",
    ...externals,
    "--output",
    `${outDir}/browser/mod.js`,
    ENTRY,
  ]);

  const js = await Deno.readTextFile(`${outDir}/esm/mod.js`);
  const dtsPath = `${outDir}/esm/mod.d.ts`;
  await Deno.writeTextFile(dtsPath, tidyDeclarations(await Deno.readTextFile(dtsPath), bundleExports(js)));
  const browserJs = await Deno.readTextFile(`${outDir}/browser/mod.js`);
  const leftover = [...browserJs.matchAll(/["'](node:[\w/]+)["']/g)].map((m) => m[1]);
  if (leftover.length) {
    throw new Error(
      `browser bundle still imports ${[...new Set(leftover)].join(", ")}: add a stand-in to BROWSER_SHIMS`,
    );
  }

  const config = await readDenoConfig();
  await Deno.writeTextFile(`${outDir}/package.json`, JSON.stringify(packageJson(config), null, 2) + "\n");
  for (const f of ["README.md", "LICENSE", "CHANGELOG.md"]) {
    await Deno.copyFile(new URL(f, PROJECT_ROOT), `${outDir}/${f}`);
  }
  return outDir;
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--out");
  if (Deno.args.includes("--help")) {
    console.log(
      "deno task build [--out DIR] [--check-kernels]: the npm package (default DIR: out/npm); prints DIR last.\n" +
        "  --check-kernels  fail when src/webgpu/kernel_sources.ts is stale instead of regenerating it",
    );
  } else {
    const out = i >= 0 ? Deno.args[i + 1] : "out/npm";
    if (!out || out.startsWith("--")) throw new Error("--out: expected a directory");
    console.log(await build(out, Deno.args.includes("--check-kernels")));
  }
}
