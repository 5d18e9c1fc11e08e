/**
 * `deno task test:browser`: the browser harness page in a real browser. Builds the page
 * (web/build.ts), serves it on a free localhost port (web/serve.ts), starts the system's Chromium
 * headless with WebGPU (`--headless=new --enable-unsafe-webgpu`, a fresh profile, no background
 * networking; no browser is downloaded) and drives it over the DevTools protocol:
 *
 * 1. `?quick`: waits for `data-state="done"` and asserts that an adapter was found (with
 *    `--expect-adapter WORD`, that its adapter line names WORD, e.g. swiftshader), that every golden
 *    case and every case of the property subset passed on every subject, and that the benchmark
 *    produced figures (every row measured, a ratio to tf.maxPool for every sortPool2d row);
 * 2. `?quick&bench=0&plant=wrong-weights-order`: a deliberately wrong kernel variant; asserts that
 *    the page ends in `data-state="failed"`, reports failed golden cases with the conformance kit's
 *    report, and shows them;
 * 3. a browser without WebGPU: the page ends in `data-state="failed"` and says how to enable it;
 * 4. junk query parameters (`?cases=abc&bench=false`): the page runs nothing, ends failed and names
 *    each parameter with what it takes and what it got;
 * 5. a page whose script cannot load (opened as file://, or served without main.js): index.html's
 *    loader ends it failed and says to serve the folder with `deno task serve`.
 *
 * It also feeds the passing run's JSON to `deno task bench --merge`, which must put its rows in a
 * table named by the adapter and read on the page's own clock, and the planted run's JSON, which
 * the merge must refuse.
 *
 * Writes to `--out` (default out/web-test): results.json and screenshot.png of each run (CI
 * artifacts). `--update-screenshot` also copies the passing run's screenshot to
 * web/screenshot.png (the README's picture). Exit status 0 when every assertion holds, 1 otherwise.
 *
 * @module
 */
import { defineCli, type ParsedCli, runCli } from "../harness/cli.ts";
import { buildPage } from "./build.ts";
import { servePage } from "./serve.ts";

/** Chromium's flags: headless WebGPU (SwiftShader where there is no GPU), nothing from the network. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless=new",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
  "--hide-scrollbars",
  "--remote-debugging-port=0",
];

/** A DevTools protocol connection (flat sessions). */
class Cdp {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  #listeners: ((method: string, params: Record<string, unknown>, sessionId?: string) => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result);
      } else {
        for (const l of this.#listeners) l(msg.method, msg.params ?? {}, msg.sessionId);
      }
    };
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error(`${p.method}: the DevTools connection closed`));
      this.#pending.clear();
    };
  }

  static connect(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = (e) => reject(new Error(`DevTools connection failed: ${(e as ErrorEvent).message ?? e}`));
    });
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(listener: (method: string, params: Record<string, unknown>, sessionId?: string) => void): void {
    this.#listeners.push(listener);
  }

  close(): void {
    this.#ws.close();
  }
}

/** A started browser. */
export interface Browser {
  readonly cdp: Cdp;
  readonly version: string;
  close(): Promise<void>;
}

/** Starts `executable` headless with a fresh profile and connects to it. */
export async function launch(executable: string, flags: readonly string[] = CHROMIUM_FLAGS): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "sortpool-chromium-" });
  const child = new Deno.Command(executable, {
    args: [...flags, `--user-data-dir=${profile}`, "about:blank"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 30_000;
  let ws: string | undefined;
  while (!ws) {
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), Math.max(0, deadline - Date.now())));
    const next = await Promise.race([reader.read(), timer]);
    if (next === "timeout" || next.done) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      throw new Error(`${executable} printed no DevTools address within 30 s; its stderr:\n${text.slice(-3000)}`);
    }
    text += next.value;
    ws = text.match(/DevTools listening on (ws:\/\/\S+)/)?.[1];
  }
  // Keep reading stderr, so Chromium never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drained */ }
    } catch { /* closed */ }
  })();
  const cdp = await Cdp.connect(ws);
  const { product } = await cdp.send<{ product: string }>("Browser.getVersion");
  return {
    cdp,
    version: product,
    async close() {
      try {
        await cdp.send("Browser.close");
      } catch { /* closing */ }
      cdp.close();
      const exited = await Promise.race([child.status, new Promise((r) => setTimeout(() => r(null), 5000))]);
      if (exited === null) child.kill("SIGKILL");
      await child.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** What one page run gave. */
export interface PageRun {
  readonly state: string;
  // deno-lint-ignore no-explicit-any
  readonly results: any;
  readonly screenshot: Uint8Array;
  readonly log: string[];
  readonly seconds: number;
  /** The text of the page's message box ("" when hidden). */
  readonly message: string;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Opens `url` in a new tab, waits for data-state done/failed (or `timeoutMs`), reads the results and a screenshot. */
export async function runPage(
  browser: Browser,
  url: string,
  timeoutMs: number,
  verbose: boolean,
  maxHeight = 2400,
): Promise<PageRun> {
  const { cdp } = browser;
  const start = Date.now();
  const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
  const log: string[] = [];
  cdp.on((method, params, sid) => {
    if (sid !== sessionId) return;
    let line: string | undefined;
    if (method === "Runtime.consoleAPICalled") {
      const args = (params.args as { value?: unknown; description?: string }[]) ?? [];
      line = `console.${params.type}: ${args.map((a) => a.value ?? a.description ?? "").join(" ")}`;
    } else if (method === "Runtime.exceptionThrown") {
      const d = params.exceptionDetails as { text?: string; exception?: { description?: string } };
      line = `exception: ${d.exception?.description ?? d.text}`;
    }
    if (line) {
      log.push(line);
      if (verbose || line.startsWith("exception")) console.error(`  [page] ${line}`);
    }
  });
  const call = <T = Record<string, unknown>>(method: string, params: object = {}) =>
    cdp.send<T>(method, params, sessionId);
  await call("Runtime.enable");
  await call("Page.enable");
  await call("Emulation.setDeviceMetricsOverride", { width: 1100, height: 900, deviceScaleFactor: 1, mobile: false });
  await call("Page.navigate", { url });
  const evaluate = async (expression: string) => {
    const r = await call<{ result: { value?: unknown } }>("Runtime.evaluate", { expression, returnByValue: true });
    return r.result.value;
  };
  let state = "";
  let lastStatus = "";
  while (Date.now() - start < timeoutMs) {
    state = String(await evaluate("document.body ? document.body.dataset.state : ''"));
    const text = String(await evaluate("(document.getElementById('status') || {}).textContent || ''"));
    if (text !== lastStatus && verbose) console.error(`  [status] ${text}`);
    lastStatus = text;
    if (state === "done" || state === "failed") break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const json = await evaluate("JSON.stringify(window.sortpoolResults ?? null)");
  const message = String(
    await evaluate("(m => m && !m.hidden ? m.textContent : '')(document.getElementById('message'))") ?? "",
  );
  const results = typeof json === "string" ? JSON.parse(json) : null;
  const metrics = await call<{ cssContentSize: { width: number; height: number } }>("Page.getLayoutMetrics");
  const height = Math.ceil(Math.min(metrics.cssContentSize.height, maxHeight));
  const shot = await call<{ data: string }>("Page.captureScreenshot", {
    format: "png",
    captureBeyondViewport: true,
    // 0.9: the README's copy stays under 300 KB and readable.
    clip: { x: 0, y: 0, width: 1100, height, scale: 0.9 },
  });
  await cdp.send("Target.closeTarget", { targetId });
  if (!(state === "done" || state === "failed")) {
    log.push(`timed out after ${timeoutMs / 1000} s; last status: ${lastStatus}`);
  }
  return { state, results, screenshot: decodeBase64(shot.data), log, seconds: (Date.now() - start) / 1000, message };
}

// deno-lint-ignore no-explicit-any
type Results = any;

/** Problems with a passing run's results (empty: all good). */
export function passingProblems(r: Results, state: string, expectAdapter?: string): string[] {
  const out: string[] = [];
  if (state !== "done") out.push(`data-state is "${state}", expected "done"`);
  if (!r) return [...out, "window.sortpoolResults is missing"];
  const adapter = r.environment?.adapter;
  if (!adapter?.available) out.push(`no adapter: ${adapter?.reason}`);
  if (expectAdapter && !new RegExp(expectAdapter, "i").test(String(r.environment?.adapterLine))) {
    out.push(`adapter line "${r.environment?.adapterLine}" does not name ${expectAdapter}`);
  }
  const checks = (r.checks?.results ?? []) as { check: string; subject: string; passed: number; total: number }[];
  for (const want of ["golden", "properties"]) {
    const mine = checks.filter((c) => c.check === want);
    if (mine.length < 2) out.push(`${want}: expected checks on 2 subjects, found ${mine.length}`);
    for (const c of mine) {
      if (c.total === 0) out.push(`${want} on ${c.subject}: no cases`);
      if (c.passed !== c.total) out.push(`${want} on ${c.subject}: ${c.passed}/${c.total} passed`);
    }
  }
  if (r.summary?.golden?.total < 156) out.push(`golden: ${r.summary?.golden?.total} requests, expected 2 x 78 x 2`);
  const suites = [...(r.suites ?? []), ...(r.windows ? [r.windows] : [])];
  if (suites.length < 2) out.push(`benchmark: ${suites.length} suites, expected a 2x2/2 and a 3x3/2 suite`);
  for (const s of suites) {
    for (const row of s.rows) {
      if (row.status !== "ok" || !(row.ms > 0)) out.push(`benchmark ${s.id} ${row.subject} ${row.pass}: ${row.status}`);
      if (row.kind === "entry" && !(row.vsMaxPool?.median > 0)) {
        out.push(`benchmark ${s.id} ${row.subject} k=${row.k} ${row.pass}: no ratio to tf.maxPool`);
      }
    }
  }
  if ((r.failures ?? []).length > 0) out.push(`failures: ${r.failures.join("; ")}`);
  return out;
}

/** Problems with the planted run (empty: the page reported the planted failure). */
export function plantedProblems(r: Results, state: string, shownFailures: number): string[] {
  const out: string[] = [];
  if (state !== "failed") out.push(`data-state is "${state}", expected "failed"`);
  if (!r) return [...out, "window.sortpoolResults is missing"];
  if (!r.plant) out.push("the results do not name the planted variant");
  const golden = ((r.checks?.results ?? []) as {
    check: string;
    subject: string;
    failed: number;
    failures: { report: string[] }[];
  }[])
    .filter((c) => c.check === "golden");
  for (const subject of ["wgsl", "sortPool2d@webgpu"]) {
    const c = golden.find((x) => x.subject === subject);
    if (!c || c.failed === 0) out.push(`golden on ${subject}: no failure reported`);
    else if (!c.failures[0]?.report.some((l) => /first difference at y\[/.test(l))) {
      out.push(`golden on ${subject}: the failure report names no differing y element`);
    }
  }
  if (shownFailures === 0) out.push("the page shows no failure block");
  return out;
}

/**
 * The page in a browser without WebGPU (Chromium without `--enable-unsafe-webgpu` and with WebGPU
 * disabled): it must end in `data-state="failed"` and say how to enable WebGPU, never stay blank.
 */
async function noWebGpuProblems(executable: string, url: string, out: string): Promise<string[]> {
  const flags = [...CHROMIUM_FLAGS.filter((f) => f !== "--enable-unsafe-webgpu"), "--disable-features=WebGPU"];
  const browser = await launch(executable, flags);
  try {
    const run = await runPage(browser, `${url}?quick`, 60_000, false, 1000);
    await Deno.writeFile(`${out}/no-webgpu-screenshot.png`, run.screenshot);
    const problems: string[] = [];
    if (run.state !== "failed") problems.push(`data-state is "${run.state}", expected "failed"`);
    if (run.results?.environment?.adapter?.available !== false) problems.push("the results claim an adapter");
    if (!/enable-unsafe-webgpu/.test(run.message)) problems.push(`the page shows no help: "${run.message}"`);
    console.log(
      `no-WebGPU run: data-state=${run.state} in ${run.seconds.toFixed(0)} s; the page says how to enable it`,
    );
    return problems;
  } finally {
    await browser.close();
  }
}

/** Junk query parameters: the page must run nothing, end failed, and name each parameter. */
async function badParamsProblems(browser: Browser, url: string, out: string): Promise<string[]> {
  const run = await runPage(browser, `${url}?quick&cases=abc&bench=false`, 30_000, false, 1000);
  await Deno.writeFile(`${out}/bad-params-screenshot.png`, run.screenshot);
  const problems: string[] = [];
  if (run.state !== "failed") problems.push(`data-state is "${run.state}", expected "failed"`);
  if (!/\?cases takes an integer .*\(got "abc"\)/.test(run.message)) {
    problems.push(`the page does not name ?cases and "abc": "${run.message}"`);
  }
  if (!/\?bench takes .*\(got "false"\)/.test(run.message)) {
    problems.push(`the page does not name ?bench and "false": "${run.message}"`);
  }
  if ((run.results?.checks?.results ?? []).length > 0) problems.push("checks ran despite the bad parameters");
  console.log(`bad-parameters run: data-state=${run.state} in ${run.seconds.toFixed(0)} s; names ?cases and ?bench`);
  return problems;
}

/**
 * A page whose script cannot load: opened as file://, and served without main.js. index.html's
 * loader must end it failed and say to serve the folder, never leave it on "loading".
 */
async function noScriptProblems(browser: Browser, dir: string, out: string): Promise<string[]> {
  const problems: string[] = [];
  const bare = await Deno.makeTempDir();
  for (const f of ["index.html", "style.css"]) await Deno.copyFile(`${dir}/${f}`, `${bare}/${f}`);
  const server = servePage(bare, 0);
  try {
    for (const [name, url] of [["file://", `file://${dir}/index.html`], ["no main.js", server.url]]) {
      const run = await runPage(browser, url, 20_000, false, 1000);
      await Deno.writeFile(`${out}/no-script-${name.replace(/\W+/g, "")}-screenshot.png`, run.screenshot);
      if (run.state !== "failed") problems.push(`${name}: data-state is "${run.state}", expected "failed"`);
      if (!/deno task serve/.test(run.message)) problems.push(`${name}: the page shows no help: "${run.message}"`);
      console.log(`page without its script (${name}): data-state=${run.state} in ${run.seconds.toFixed(0)} s`);
    }
  } finally {
    await server.close();
    await Deno.remove(bare, { recursive: true });
  }
  return problems;
}

/**
 * Feeds the page's results to `deno task bench --merge` (bench/engines.ts), the merge of bench JSON
 * files: it must read the file and put the page's sortPool2d rows in its table.
 */
async function mergeProblems(results: string, planted: string, out: string): Promise<string[]> {
  const merge = (file: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../bench/main.ts", import.meta.url).pathname,
        "--merge",
        file,
        "--json",
        `${out}/merged.json`,
        "--report",
        `${out}/merged-report`,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const { code, stdout, stderr } = await merge(results);
  const text = new TextDecoder().decode(stdout);
  const problems: string[] = [];
  if (code !== 0) {
    problems.push(`deno task bench --merge exited ${code}: ${new TextDecoder().decode(stderr).slice(-800)}`);
  } else if (!/\| wgsl@tfjs \|/.test(text)) problems.push("the merged table has no wgsl@tfjs row of the page's run");
  else {
    // The run line: named by the adapter (not its vendor), on the clock the page timed with.
    const runLine = text.split("\n").find((l) => l.startsWith("- `")) ?? "";
    if (/clock: process-cpu/.test(runLine)) problems.push(`the run line claims process CPU time: ${runLine}`);
    if (/`chrome-google/.test(runLine)) problems.push(`the run is named by the adapter's vendor: ${runLine}`);
    if (/predates/.test(runLine)) problems.push(`the run line says the file predates engine names: ${runLine}`);
    console.log(`deno task bench --merge ${results}: read it; table in ${out}/merged-report/README.md`);
  }
  const refused = await merge(planted);
  const err = new TextDecoder().decode(refused.stderr);
  if (refused.code === 0 || !/not a trustworthy measurement.*Refused/.test(err)) {
    problems.push(`the planted run's JSON was not refused (exit ${refused.code}): ${err.slice(-400)}`);
  } else console.log(`deno task bench --merge ${planted}: refused (exit ${refused.code})`);
  return problems;
}

/** The command line of `deno task test:browser` (harness/cli.ts convention). */
export const BROWSER_TEST_CLI = defineCli({
  command: "deno task test:browser",
  summary: "Runs the browser harness page in headless Chromium over the DevTools protocol: a passing run (?quick), " +
    "the planted failure (?quick&bench=0&plant=wrong-weights-order), a browser without WebGPU, junk query " +
    "parameters and a page whose script cannot load (file://, no main.js); asserts what each must show, and feeds " +
    "the passing run's JSON (merged) and the planted run's (refused) to deno task bench --merge.",
  options: {
    chromium: { type: "string", value: "PATH", description: "the browser to start", default: "/usr/bin/chromium" },
    out: { type: "string", value: "DIR", description: "screenshots and results JSON", default: "out/web-test" },
    "expect-adapter": { type: "string", value: "WORD", description: "the adapter line must name WORD (regexp)" },
    "update-screenshot": { type: "boolean", description: "copy the passing run's screenshot to web/screenshot.png" },
    verbose: { type: "boolean", description: "print the page's status line and console as it runs" },
  },
  epilog: "exit status: 0 every assertion held, 1 one failed, 2 usage error",
});

/** Runs the three pages and the merge; returns the exit status. */
export async function browserTestMain({ values }: ParsedCli): Promise<number> {
  const executable = String(values.chromium);
  const out = String(values.out);
  const expectAdapter = typeof values["expect-adapter"] === "string" ? values["expect-adapter"] : undefined;
  const verbose = values.verbose === true;
  const t0 = Date.now();
  const dir = await buildPage();
  console.log(`built the page in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${dir}`);
  const server = servePage(dir, 0);
  const browser = await launch(executable);
  console.log(`${browser.version} (${executable}), page at ${server.url}`);
  await Deno.mkdir(out, { recursive: true });
  const problems: string[] = [];
  try {
    const pass = await runPage(browser, `${server.url}?quick`, 200_000, verbose);
    await Deno.writeTextFile(`${out}/results.json`, JSON.stringify(pass.results, null, 2) + "\n");
    await Deno.writeFile(`${out}/screenshot.png`, pass.screenshot);
    const r = pass.results;
    const seconds = pass.seconds.toFixed(0);
    console.log(
      `passing run: data-state=${pass.state} in ${seconds} s; adapter: ${r?.environment?.adapterLine}; golden ` +
        `${r?.summary?.golden?.passed}/${r?.summary?.golden?.total}, properties ` +
        `${r?.summary?.properties?.passed}/${r?.summary?.properties?.total}, ${r?.summary?.benchmarkRows} benchmark rows`,
    );
    problems.push(...passingProblems(r, pass.state, expectAdapter).map((p) => `passing run: ${p}`));
    if (values["update-screenshot"]) {
      await Deno.writeFile(new URL("screenshot.png", import.meta.url), pass.screenshot);
      console.log("updated web/screenshot.png");
    }
    const planted = await runPage(browser, `${server.url}?quick&bench=0&plant=wrong-weights-order`, 80_000, verbose);
    await Deno.writeTextFile(`${out}/planted-results.json`, JSON.stringify(planted.results, null, 2) + "\n");
    await Deno.writeFile(`${out}/planted-screenshot.png`, planted.screenshot);
    const checks = (planted.results?.checks?.results ?? []) as { failures: unknown[] }[];
    const shown = checks.reduce((n, c) => n + c.failures.length, 0);
    const pr = planted.results;
    console.log(
      `planted run (wrong-weights-order): data-state=${planted.state} in ${planted.seconds.toFixed(0)} s; golden ` +
        `${pr?.summary?.golden?.passed}/${pr?.summary?.golden?.total} passed, properties ` +
        `${pr?.summary?.properties?.passed}/${pr?.summary?.properties?.total} passed`,
    );
    problems.push(...plantedProblems(pr, planted.state, shown).map((p) => `planted run: ${p}`));
    const merged = await mergeProblems(`${out}/results.json`, `${out}/planted-results.json`, out);
    problems.push(...merged.map((p) => `merge: ${p}`));
    problems.push(...(await badParamsProblems(browser, server.url, out)).map((p) => `bad parameters: ${p}`));
    problems.push(...(await noScriptProblems(browser, dir, out)).map((p) => `page without its script: ${p}`));
    const noGpu = await noWebGpuProblems(executable, server.url, out);
    problems.push(...noGpu.map((p) => `no-WebGPU run: ${p}`));
    for (const l of [...pass.log, ...planted.log].filter((l) => l.startsWith("timed out"))) problems.push(l);
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(
    `wrote ${out}/results.json, screenshot.png, planted-results.json, planted-screenshot.png, no-webgpu-screenshot.png, ` +
      "bad-params-screenshot.png, no-script-*-screenshot.png",
  );
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (problems.length > 0) {
    console.error(`FAIL (${problems.length}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  console.log("PASS: the page passes every check with benchmark figures, and reports the planted failure");
  return 0;
}

if (import.meta.main) await runCli(BROWSER_TEST_CLI, Deno.args, browserTestMain);
