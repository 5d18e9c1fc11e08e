/**
 * Builds the browser harness page into a folder that any static web server can serve (default
 * `out/web`): `index.html`, `style.css` and `main.js`, one ES module bundled by Deno's own bundler
 * (`deno bundle --platform browser`) from web/main.ts with everything it needs: the library's
 * kernels, op and reference, the golden vectors (a JSON module), the conformance kit's comparison,
 * the measurement core, tfjs with its webgpu backend, and vega-lite with vega for the chart.
 * Nothing is fetched from the network when the page runs.
 *
 * Node built-ins the bundled modules import are replaced by browser stand-ins: the library's own
 * (build/shims/, the same as the npm package's browser bundle) and two of the page's (web/shims/).
 *
 * @module
 */
import { BROWSER_SHIMS, readDenoConfig } from "../build/build.ts";
import { defineCli, runCli } from "../harness/cli.ts";

/** The project root, as a file URL ending in "/". */
export const ROOT: URL = new URL("../", import.meta.url);

/** Default output folder, relative to the project root. */
export const WEB_OUT = "out/web";

/** Static files copied next to the bundle. */
const STATIC_FILES = ["index.html", "style.css"] as const;

/** Node built-ins imported by modules the page bundles beyond the library's, and their stand-ins here. */
const PAGE_SHIMS: Readonly<Record<string, string>> = {
  "node:process": "shims/process.ts",
  "node:util": "shims/util.ts",
};

/** Builds the page into `out` (relative to the project root, or absolute); returns the absolute folder path. */
export async function buildPage(out: string = WEB_OUT): Promise<string> {
  const outDir = out.startsWith("/") ? out : new URL(out, ROOT).pathname;
  const config = await readDenoConfig();
  const buildUrl = new URL("build/build.ts", ROOT);
  const shims = {
    ...Object.fromEntries(Object.entries(BROWSER_SHIMS).map(([k, v]) => [k, new URL(v, buildUrl).href])),
    ...Object.fromEntries(Object.entries(PAGE_SHIMS).map(([k, v]) => [k, new URL(v, import.meta.url).href])),
  };
  const configDir = new URL("out/.build/web/", ROOT);
  await Deno.mkdir(configDir, { recursive: true });
  const configPath = new URL("deno.json", configDir).pathname;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({ imports: { ...config.imports, ...shims }, nodeModulesDir: "manual" }, null, 2),
  );
  await Deno.mkdir(outDir, { recursive: true });
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--config",
      configPath,
      "--platform",
      "browser",
      "--format",
      "esm",
      "--minify",
      "--output",
      `${outDir}/main.js`,
      new URL("main.ts", import.meta.url).pathname,
    ],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`deno bundle of web/main.ts exited with code ${code}`);
  const js = await Deno.readTextFile(`${outDir}/main.js`);
  const leftover = [...new Set([...js.matchAll(/["'](node:[\w/]+)["']/g)].map((m) => m[1]))];
  if (leftover.length) throw new Error(`the page's bundle still imports ${leftover.join(", ")}: add a stand-in`);
  for (const f of STATIC_FILES) await Deno.copyFile(new URL(f, import.meta.url), `${outDir}/${f}`);
  return outDir;
}

/** The command line of `deno run -A web/build.ts` (harness/cli.ts convention). */
export const BUILD_CLI = defineCli({
  command: "deno run -A web/build.ts",
  summary: "Builds the browser harness page (index.html, style.css, main.js) into a folder a static server can " +
    "serve; prints the folder. `deno task serve` builds and serves it.",
  options: { out: { type: "string", value: "DIR", description: "output folder", default: WEB_OUT } },
});

if (import.meta.main) {
  await runCli(BUILD_CLI, Deno.args, async ({ values }) => {
    console.log(await buildPage(String(values.out ?? WEB_OUT)));
    return 0;
  });
}
