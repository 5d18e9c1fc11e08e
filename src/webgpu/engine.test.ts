/**
 * The engine choice (src/webgpu/engine.ts): names are checked, the choice is made once per
 * process, SORTPOOL_ENGINE reaches any script that imports the library, and reports name the
 * engine and the adapter from adapter.info.
 */
import { describe, expect, test } from "vitest";
import { parseCli, UsageError } from "../../harness/cli.ts";
import { defineCli } from "../../harness/cli.ts";
import { describeAdapter, EngineError, engineInfo, parseEngineName, useEngine } from "./engine.ts";
import { requestAdapterOrThrow } from "./device.ts";

const ROOT = new URL("../../", import.meta.url);

/** Runs `code` as a module in a fresh Deno process from the repository root, with `env` added. */
async function runScript(code: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: status, out: text.decode(stdout) + text.decode(stderr) };
}

describe("engine names", () => {
  test("parseEngineName takes deno and dawn (any case, trimmed) and names the source of anything else", () => {
    expect(parseEngineName(" Dawn ", "x")).toBe("dawn");
    expect(parseEngineName("deno", "x")).toBe("deno");
    expect(() => parseEngineName("wgpu", "SORTPOOL_ENGINE")).toThrow(EngineError);
    expect(() => parseEngineName("wgpu", "SORTPOOL_ENGINE")).toThrow(
      'SORTPOOL_ENGINE: expected one of deno, dawn, received "wgpu"',
    );
  });

  test("every command takes --engine, and a wrong value is a usage error naming the flag", () => {
    const cli = defineCli({ command: "deno task demo", summary: "demo", options: {} });
    expect(parseCli(cli, ["--engine", "dawn"]).values.engine).toBe("dawn");
    // The value is checked when the command runs (runCli), before anything requests an adapter.
    expect(() => parseCli(cli, ["--engine"])).toThrow(UsageError);
  });
});

describe("the engine of this process", () => {
  test("is chosen once: asking for the other engine afterwards is an EngineError", async () => {
    const current = (await useEngine()).name;
    const other = current === "deno" ? "dawn" : "deno";
    await expect(useEngine(other)).rejects.toThrow(EngineError);
    await expect(useEngine(other)).rejects.toThrow(/already in use/);
    expect((await useEngine(current)).name).toBe(current);
    expect(engineInfo().name).toBe(current);
  });

  test("reports name the engine and the adapter from adapter.info", async () => {
    const adapter = await requestAdapterOrThrow();
    const line = describeAdapter(adapter);
    expect(line).toContain(engineInfo().implementation);
    const info = adapter.info;
    expect(line).toContain(info.description || info.device || info.architecture || info.vendor);
    expect(line).not.toMatch(/DENO_WEBGPU_BACKEND/);
  });
});

describe("SORTPOOL_ENGINE in a fresh process that imports the library", () => {
  const probe = 'import { describeAdapter, engineInfo } from "./src/mod.ts";\n' +
    'import { requestAdapterOrThrow } from "./src/webgpu/device.ts";\n' +
    "const a = await requestAdapterOrThrow();\n" +
    "console.log(JSON.stringify({ engine: engineInfo().name, line: describeAdapter(a) }));";

  test("an unknown value stops the import with an error naming SORTPOOL_ENGINE", async () => {
    const run = await runScript(probe, { SORTPOOL_ENGINE: "webgl" });
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('SORTPOOL_ENGINE: expected one of deno, dawn, received "webgl"');
  });

  test("dawn installs Dawn as navigator.gpu before the library's first adapter request", async () => {
    const run = await runScript(probe, { SORTPOOL_ENGINE: "dawn" });
    expect(run.code, run.out).toBe(0);
    const line = run.out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1) ?? "";
    const result = JSON.parse(line);
    expect(result.engine).toBe("dawn");
    expect(result.line).toMatch(/ on Dawn \(npm webgpu 0\.6\.2/);
  }, 180_000);
});
