/**
 * The project's one GPU error-scope helper on a stand-in device (no GPU): scopes are popped in
 * reverse push order, a validation error wins over an out-of-memory one, and a scope that cannot
 * answer becomes a WebGpuError instead of a silent pass or an unhandled rejection.
 */
import { describe, expect, test } from "vitest";
import { openGpuErrorScopes, WebGpuError, withGpuErrorScopes } from "./device.ts";

/** A device whose scopes answer `answers` by kind (an Error answer rejects), recording pushes and pops. */
function scopedDevice(answers: Partial<Record<GPUErrorFilter, { message: string } | Error>>) {
  const stack: GPUErrorFilter[] = [];
  const popped: GPUErrorFilter[] = [];
  const device = {
    pushErrorScope: (kind: GPUErrorFilter) => stack.push(kind),
    popErrorScope: () => {
      const kind = stack.pop()!;
      popped.push(kind);
      const answer = answers[kind];
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? null);
    },
  } as unknown as GPUDevice;
  return { device, stack, popped };
}

describe("GPU error scopes", () => {
  test("pop innermost first and report validation before out-of-memory", async () => {
    const { device, stack, popped } = scopedDevice({
      "validation": { message: "bad binding" },
      "out-of-memory": { message: "no memory" },
    });
    const scopes = openGpuErrorScopes(device, "a call");
    expect(stack).toEqual(["validation", "out-of-memory"]);
    const error = await scopes.close();
    expect(popped).toEqual(["out-of-memory", "validation"]);
    expect(error).toBeInstanceOf(WebGpuError);
    expect(error?.kind).toBe("validation");
    expect(error?.message).toBe("WebGPU validation error in a call: bad binding");
  });

  test("an out-of-memory error alone, no error at all, and a scope that cannot answer", async () => {
    const oom = await openGpuErrorScopes(scopedDevice({ "out-of-memory": { message: "full" } }).device, "x").close();
    expect([oom?.kind, oom?.gpuMessage]).toEqual(["out-of-memory", "full"]);
    expect(await openGpuErrorScopes(scopedDevice({}).device, "x").close()).toBeUndefined();
    const lost = await openGpuErrorScopes(scopedDevice({ validation: new Error("device lost") }).device, "x").close();
    expect(lost?.gpuMessage).toBe("error scope failed: Error: device lost");
  });

  test("withGpuErrorScopes: the scopes' error is thrown, the body's own error wins, scopes always popped", async () => {
    const failing = scopedDevice({ validation: { message: "bad" } });
    await expect(withGpuErrorScopes(failing.device, "run", () => 1)).rejects.toThrow("validation error in run: bad");
    const thrown = scopedDevice({ validation: { message: "bad" } });
    await expect(withGpuErrorScopes(thrown.device, "run", () => {
      throw new RangeError("body");
    })).rejects.toThrow(RangeError);
    expect(thrown.stack).toEqual([]);
    expect(await withGpuErrorScopes(scopedDevice({}).device, "run", () => 7)).toBe(7);
  });
});
