/**
 * The npm build, end to end: `deno task build` into a scratch folder, its declarations type-check,
 * its browser bundle loads with only tfjs to resolve, and `npm pack` of it, installed with npm into
 * a scratch Node project outside the repository next to npm-installed tfjs (and `webgpu` for
 * Dawn), runs build/smoke/node_smoke.mjs under Node: the op's forward and gradient against the
 * reference, and the layer in a model (fit, predict, save and load) on cpu and, through Dawn, on
 * webgpu. Needs npm and the npm registry. Without a Dawn adapter the webgpu part fails with the
 * reason; SORTPOOL_SMOKE_SKIP_DAWN=1 skips it and the output says so.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OPTIONAL_PEER_PACKAGES, PEER_PACKAGES } from "./build.ts";
import { PROJECT_ROOT } from "./kernels.ts";

const ROOT = PROJECT_ROOT.pathname.replace(/\/$/, "");
/** Opt-out for a second test run in the same CI job (the package does not depend on Deno's adapter). */
const SKIP = Deno.env.get("SORTPOOL_SKIP_NPM_PACKAGE") === "1";
if (SKIP) console.warn("build/npm_package.test.ts: SKIPPED: SORTPOOL_SKIP_NPM_PACKAGE=1 is set");
let scratch = "";
let pkgDir = "";

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; stdout: string }> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout) + dec.decode(stderr), stdout: dec.decode(stdout) };
}

/** npm's exact pins of the peer packages, from deno.json's imports. */
async function pins(): Promise<string[]> {
  const imports = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).imports as Record<string, string>;
  return [...PEER_PACKAGES, ...OPTIONAL_PEER_PACKAGES].map((p) => imports[p].replace(/^npm:/, ""));
}

beforeAll(async () => {
  if (SKIP) return;
  scratch = await Deno.makeTempDir({ prefix: "sortpool-npm-" });
  const { code, out, stdout } = await run(Deno.execPath(), [
    "run",
    "-A",
    "build/build.ts",
    "--out",
    `${scratch}/package`,
    "--check-kernels",
  ], ROOT);
  expect(code, out).toBe(0);
  pkgDir = stdout.trim().split("\n").pop()!; // the build prints the package directory last
  expect(pkgDir).toBe(`${scratch}/package`);
}, 180_000);

afterAll(async () => {
  // The scratch project holds an npm install (tens of thousands of files): removing it takes a while.
  if (scratch) await Deno.remove(scratch, { recursive: true }).catch(() => {});
}, 120_000);

describe.skipIf(SKIP)("deno task build (skipped when SORTPOOL_SKIP_NPM_PACKAGE=1)", () => {
  test("writes package.json, the ES module, its declarations and the browser bundle", async () => {
    const pkg = JSON.parse(await Deno.readTextFile(`${pkgDir}/package.json`));
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
    expect(pkg.name).toBe(config.name);
    expect(pkg.version).toBe(config.version);
    expect(pkg.type).toBe("module");
    expect(pkg.exports["."]).toEqual({
      types: "./esm/mod.d.ts",
      browser: "./browser/mod.js",
      default: "./esm/mod.js",
    });
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual([...PEER_PACKAGES, ...OPTIONAL_PEER_PACKAGES].sort());
    expect(pkg.peerDependenciesMeta).toEqual({ webgpu: { optional: true } });
    expect(pkg.dependencies).toBeUndefined();
    for (const f of ["esm/mod.js", "esm/mod.d.ts", "browser/mod.js", "README.md", "LICENSE", "CHANGELOG.md"]) {
      await Deno.stat(`${pkgDir}/${f}`);
    }
  });

  test("the declarations type-check", async () => {
    // Checked inside the project (the build's bundle config maps tfjs to the project's node_modules).
    const dir = await Deno.makeTempDir({ dir: `${ROOT}/out/.build`, prefix: "dts-check-" });
    try {
      await Deno.copyFile(`${pkgDir}/esm/mod.d.ts`, `${dir}/mod.d.ts`);
      const { code, out } = await run(
        Deno.execPath(),
        ["check", "--config", `${ROOT}/out/.build/node/deno.json`, `${dir}/mod.d.ts`],
        ROOT,
      );
      expect(code, out).toBe(0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    const dts = await Deno.readTextFile(`${pkgDir}/esm/mod.d.ts`);
    for (const name of ["sortPool2d", "SortPooling2D", "sortPooling2d", "useEngine", "referenceForward"]) {
      expect(dts).toMatch(new RegExp(`^export declare (function|class) ${name}\\b`, "m"));
    }
    expect(dts).not.toMatch(/from "\.{1,2}\//);
  });

  test("the bundles import only the peer packages; the browser bundle no Node built-in", async () => {
    for (const file of ["esm/mod.js", "browser/mod.js"]) {
      const js = await Deno.readTextFile(`${pkgDir}/${file}`);
      const statics = [...js.matchAll(/^import (?:[^"']* from )?["']([^"']+)["'];?$/gm)].map((m) => m[1]);
      const allowed = file.startsWith("browser")
        ? [...PEER_PACKAGES]
        : [...PEER_PACKAGES, "node:async_hooks", "node:fs/promises", "node:path", "node:url"];
      for (const s of statics) expect(allowed, `${file} imports ${s}`).toContain(s);
      expect(js).not.toMatch(/Deno\.read(Text)?File/);
    }
    const browser = await Deno.readTextFile(`${pkgDir}/browser/mod.js`);
    expect(browser).not.toMatch(/["']node:/);
  });

  test("the browser bundle runs the op and a backend turn (tfjs from the import map, no Node built-ins)", async () => {
    const script = `${scratch}/browser_use.ts`;
    await Deno.writeTextFile(
      script,
      [
        `import * as tf from "@tensorflow/tfjs";`,
        `const lib = await import(${JSON.stringify(new URL(`file://${pkgDir}/browser/mod.js`).href)});`,
        `const y = await lib.withBackend("cpu", async () => {`,
        `  await Promise.resolve();`,
        `  const t = lib.sortPool2d(tf.tensor4d([1, 4, 3, 2], [1, 2, 2, 1]), tf.tensor1d([0, 0]), { k: 2, padding: "valid" });`,
        `  return Array.from(await t.data());`,
        `});`,
        `const nested = await lib.withBackend("cpu", async () => { await Promise.resolve(); return lib.withBackend("cpu", () => "inner"); });`,
        `console.log("RESULT " + JSON.stringify({ y, nested }));`,
      ].join("\n"),
    );
    const { code, out } = await run(Deno.execPath(), ["run", "-A", "--config", `${ROOT}/deno.json`, script], ROOT);
    expect(code, out).toBe(0);
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    expect(line, out).toBeDefined();
    expect(JSON.parse(line!.slice(7))).toEqual({ y: [3.5], nested: "inner" });
  }, 120_000);
});

describe.skipIf(SKIP)(
  "the npm package in a scratch Node project, npm only (skipped when SORTPOOL_SKIP_NPM_PACKAGE=1)",
  () => {
    test(
      "npm pack, npm install next to tfjs and webgpu, then the op, its gradient and a trained model under Node",
      async () => {
        const node = `${scratch}/node-project`;
        await Deno.mkdir(node, { recursive: true });
        const pack = await run("npm", ["pack", "--pack-destination", scratch, "--loglevel=error"], pkgDir);
        expect(pack.code, pack.out).toBe(0);
        const tarball = `${scratch}/${pack.stdout.trim().split("\n").pop()}`;
        const listing = await run("tar", ["tzf", tarball], scratch);
        console.log(`npm pack: ${tarball} (${(await Deno.stat(tarball)).size} bytes)\n${listing.out.trim()}`);
        await Deno.writeTextFile(
          `${node}/package.json`,
          JSON.stringify({ name: "scratch", private: true, type: "module" }),
        );
        const install = await run(
          "npm",
          ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball, ...(await pins())],
          node,
        );
        expect(install.code, install.out).toBe(0);
        // A TypeScript user of the installed package: its types resolve through package.json's "types".
        await Deno.writeTextFile(
          `${node}/consumer.ts`,
          [
            `import * as tf from "@tensorflow/tfjs";`,
            `import { sortPool2d, type SortPool2dOptions, SortPooling2D, sortPooling2d, useEngine } from "@sortpool/sortpool";`,
            `const options: SortPool2dOptions = { k: 2, padding: "valid" };`,
            `const y: tf.Tensor4D = sortPool2d(tf.zeros([1, 2, 2, 1]), tf.zeros([2]), options);`,
            `const layer: SortPooling2D = sortPooling2d({ k: 3, poolSize: 3, strides: 2 });`,
            `const engine: Promise<{ name: "deno" | "dawn"; implementation: string }> = useEngine("dawn");`,
            `// @ts-expect-error k is required`,
            `sortPooling2d({});`,
            `export { engine, layer, y };`,
          ].join("\n"),
        );
        const typed = await run(Deno.execPath(), ["check", "consumer.ts"], node);
        expect(typed.code, typed.out).toBe(0);
        await Deno.copyFile(`${ROOT}/build/smoke/node_smoke.mjs`, `${node}/smoke.mjs`);
        const env: Record<string, string> = {};
        for (
          const k of ["SORTPOOL_SMOKE_SKIP_DAWN", "SORTPOOL_SWIFTSHADER_ICD", "VK_ICD_FILENAMES", "XDG_RUNTIME_DIR"]
        ) {
          const v = Deno.env.get(k);
          if (v !== undefined) env[k] = v;
        }
        const { code, out } = await new Deno.Command("node", {
          args: ["smoke.mjs"],
          cwd: node,
          clearEnv: true,
          env: {
            PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
            HOME: Deno.env.get("HOME") ?? node,
            NO_COLOR: "1",
            ...env,
          },
          stdout: "piped",
          stderr: "piped",
        }).output().then((o) => ({
          code: o.code,
          out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr),
        }));
        console.log(out);
        expect(code, out).toBe(0);
        expect(out).toMatch(/^smoke test passed$/m);
      },
      300_000,
    );
  },
);
