/**
 * The program runner on a recording stand-in device (no GPU): bind groups follow the program's
 * binding order whatever order the caller names them in, held bind groups are reused exactly
 * while they bind the same ranges, per-chunk `Params` blocks land at their slots (a repeated
 * write skipped only when asked), pipelines are cached by shader and constants, and dispatch
 * grids follow each program's rule.
 */
import { describe, expect, test } from "vitest";
import { BufferTracker } from "./buffers.ts";
import { packParams } from "./program.ts";
import { GENERAL_WEIGHTS } from "./programs/general.ts";
import { FORWARD_2X2, PARTIAL_SUMS_2X2, WEIGHTS_2X2 } from "./programs/pool2x2.ts";
import { ProgramRunner } from "./runner.ts";
import { kernelSources } from "./shaders.ts";

/** A device stand-in that records what the runner asks of it. */
function recordingDevice() {
  const log = {
    groups: [] as string[][],
    writes: [] as { buffer: GPUBuffer; offset: number; words: number[] }[],
    pipelines: [] as GPUComputePipelineDescriptor[],
    destroyed: [] as GPUBuffer[],
  };
  let next = 0;
  const names = new WeakMap<object, string>();
  const nameOf = (o: object) => names.get(o) ?? "?";
  const buffer = (label: string, size: number) => {
    const b = { label, size, usage: 0, destroy: () => log.destroyed.push(b as unknown as GPUBuffer) };
    names.set(b, `${label}#${next++}`);
    return b as unknown as GPUBuffer;
  };
  const device = {
    limits: { minUniformBufferOffsetAlignment: 256 },
    queue: {
      writeBuffer(b: GPUBuffer, offset: number, data: Uint32Array) {
        log.writes.push({ buffer: b, offset, words: [...data] });
      },
    },
    createBuffer: (d: GPUBufferDescriptor) => buffer(String(d.label), d.size),
    createShaderModule: (d: GPUShaderModuleDescriptor) => ({ label: d.label }),
    createBindGroupLayout: () => ({}),
    createPipelineLayout: () => ({}),
    createBindGroup: (d: GPUBindGroupDescriptor) => {
      log.groups.push([...d.entries].map((e) => {
        const r = e.resource as GPUBufferBinding;
        return `${e.binding}: ${nameOf(r.buffer)} @${r.offset} +${r.size}`;
      }));
      return { index: log.groups.length - 1 };
    },
    createComputePipeline: (d: GPUComputePipelineDescriptor) => {
      log.pipelines.push(d);
      return { label: d.label };
    },
  } as unknown as GPUDevice;
  return { device, log, buffer, nameOf };
}

function runnerOn(device: GPUDevice, maxPerDim = 8) {
  return new ProgramRunner(
    device,
    kernelSources(),
    new BufferTracker(),
    { workgroupSize: 64, forwardWorkgroupSize: 256 },
    maxPerDim,
  );
}

describe("ProgramRunner", () => {
  test("binds by binding name in the program's order; held groups are reused only for the same ranges", () => {
    const { device, log, buffer } = recordingDevice();
    const runner = runnerOn(device);
    const [logits, weights, other] = [buffer("logits", 64), buffer("weights", 16), buffer("other", 64)];
    const params = runner.writeParams(WEIGHTS_2X2, packParams(WEIGHTS_2X2, { k: 3 }));
    // Named out of order: the group follows the program (logits 0, weights 1, params 2).
    const first = runner.heldBind(logits, WEIGHTS_2X2, {
      params,
      weights: { buffer: weights, size: 16 },
      logits: { buffer: logits, size: 12 },
    });
    expect(log.groups[0]).toEqual(["0: logits#0 @0 +12", "1: weights#1 @0 +16", "2: sortpool weights params#3 @0 +32"]);
    const again = runner.heldBind(logits, WEIGHTS_2X2, {
      logits: { buffer: logits, size: 12 },
      weights: { buffer: weights, size: 16 },
      params,
    });
    expect(again).toBe(first);
    const larger = runner.heldBind(logits, WEIGHTS_2X2, {
      logits: { buffer: logits, size: 16 },
      weights: { buffer: weights, size: 16 },
      params,
    });
    expect(larger).not.toBe(first);
    const moved = runner.heldBind(logits, WEIGHTS_2X2, {
      logits: { buffer: logits, size: 16 },
      weights: { buffer: other, size: 16 },
      params,
    });
    expect(moved).not.toBe(larger);
    expect(log.groups).toHaveLength(3);
  });

  test("per-chunk Params blocks land at their slots; a repeated write is skipped only with reuse", () => {
    const { device, log, nameOf } = recordingDevice();
    const runner = runnerOn(device);
    const block = (count: number, index: number) => packParams(PARTIAL_SUMS_2X2, { count, index });
    const slot = runner.slotBytes([FORWARD_2X2, PARTIAL_SUMS_2X2]);
    expect(slot).toBe(256);
    const blocks = runner.writeChunkParams(PARTIAL_SUMS_2X2, [block(7, 0), block(9, 1)], slot, true);
    expect(log.writes).toHaveLength(1);
    expect(log.writes[0].words.length).toBe(2 * slot / 4);
    expect(log.writes[0].words.slice(0, 4)).toEqual([7, 0, 0, 0]);
    expect(log.writes[0].words.slice(slot / 4, slot / 4 + 4)).toEqual([9, 1, 0, 0]);
    expect(blocks.at(1)).toMatchObject({ offset: slot, size: 16 });
    expect(nameOf(blocks.at(1).buffer)).toMatch(/^sortpool partialSums params/);
    runner.writeChunkParams(PARTIAL_SUMS_2X2, [block(7, 0), block(9, 1)], slot, true);
    expect(log.writes).toHaveLength(1);
    runner.writeChunkParams(PARTIAL_SUMS_2X2, [block(7, 0), block(8, 1)], slot, true);
    runner.writeChunkParams(PARTIAL_SUMS_2X2, [block(7, 0), block(8, 1)], slot);
    expect(log.writes).toHaveLength(3);
    // Three blocks outgrow the 512-byte buffer: a 1 KiB one replaces it, the old one destroyed.
    const grown = runner.writeChunkParams(PARTIAL_SUMS_2X2, [block(1, 0), block(2, 1), block(3, 2)], slot);
    expect(grown.at(0).buffer.size).toBe(1024);
    expect(log.destroyed).toEqual([blocks.at(0).buffer]);
  });

  test("pipelines are cached by shader and constants; WORKGROUP_SIZE comes from the kernel set", () => {
    const { device, log } = recordingDevice();
    const runner = runnerOn(device);
    const variant = {
      vec4: true,
      groupsPerInvocation: 2,
      forward: { k: 3, fullWindows: true, fewItems: false },
    } as const;
    const a = runner.pipeline(FORWARD_2X2, variant);
    expect(runner.pipeline(FORWARD_2X2, { ...variant })).toBe(a);
    runner.pipeline(FORWARD_2X2, { ...variant, vec4: false });
    runner.pipeline(GENERAL_WEIGHTS, {});
    expect(log.pipelines.map((d) => [d.label, d.compute.constants])).toEqual([
      ["sortpool forwardVec4", { WORKGROUP_SIZE: 256, GROUPS_PER_INVOCATION: 2, K: 3, FULL_WINDOWS: 1, FEW_ITEMS: 0 }],
      ["sortpool forward", { WORKGROUP_SIZE: 256, GROUPS_PER_INVOCATION: 2, K: 3, FULL_WINDOWS: 1, FEW_ITEMS: 0 }],
      ["sortpool generalWeights", { WORKGROUP_SIZE: 64 }],
    ]);
  });

  test("grids: per invocation or per workgroup, 2-D past the per-dimension limit, 1-D when the kernel is 1-D", () => {
    const { device } = recordingDevice();
    const runner = runnerOn(device, 8);
    expect(runner.grid(FORWARD_2X2, 256 * 8)).toEqual([8, 1]);
    expect(runner.grid(FORWARD_2X2, 256 * 8 + 1)).toEqual([8, 2]);
    expect(() => runner.grid(FORWARD_2X2, 256 * 65)).toThrow(RangeError);
    expect(runner.grid(GENERAL_WEIGHTS, 64 * 20)).toEqual([20]);
    expect(runner.grid(WEIGHTS_2X2, 1)).toEqual([1]);
  });
});
