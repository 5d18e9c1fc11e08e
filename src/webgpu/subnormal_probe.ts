/**
 * Whether a WebGPU device flushes float32 subnormals (numbers below 2^-126, float32's smallest
 * normal), found by running a tiny kernel on it. WGSL lets an implementation flush subnormal
 * inputs and outputs of f32 arithmetic to zero, and many GPUs and SwiftShader do, while Mesa's
 * llvmpipe keeps them. SPEC.md §5 fixes the flush of subnormal weights and §4 "Subnormal values" says what may
 * differ for subnormal x on a flushing device; reports and tests print this probe per adapter.
 *
 * Every operand is read from a storage buffer, so no compiler can fold the operations away.
 *
 * @module
 */
import { runOneShotKernel } from "./one_shot_kernel.ts";

/** What the probe found; each field is about float32 in WGSL on that device. */
export interface SubnormalBehaviour {
  /** `a > 0`, `a != 0` for a subnormal `a` read as zero (comparisons flush their inputs). */
  readonly comparisonsFlushInputs: boolean;
  /** `a + a` for the subnormal a = 2^-127 (exact sum 2^-126, a normal number) gives 0: arithmetic flushes its inputs. */
  readonly arithmeticFlushesInputs: boolean;
  /** `m * 0.5` for m = 2^-126 (exact product 2^-127, subnormal) gives 0: arithmetic flushes its outputs. */
  readonly arithmeticFlushesOutputs: boolean;
  /** A subnormal loaded as f32 and stored as f32 (a copy through `select`, no arithmetic) keeps its bits. */
  readonly copiesKeepBits: boolean;
  /** True when any of the flushes above happens. */
  readonly flushes: boolean;
  /** One line for reports, e.g. "flushes subnormals: compares yes, arithmetic inputs yes, outputs yes; copies keep bits". */
  readonly summary: string;
}

const PROBE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> operands: array<f32>;
@group(0) @binding(1) var<storage, read_write> results: array<u32>;

@compute @workgroup_size(1)
fn main() {
  let sub = operands[0];     // 2^-127: subnormal
  let zero = operands[1];    // +0
  let normal = operands[2];  // 2^-126: the smallest normal
  let half = operands[3];    // 0.5
  let pick = operands[4] > zero; // true (1.0 > 0), opaque to the compiler
  results[0] = select(0u, 1u, sub > zero);
  results[1] = select(0u, 1u, sub != zero);
  results[2] = bitcast<u32>(sub + sub);
  results[3] = bitcast<u32>(normal * half);
  results[4] = bitcast<u32>(select(zero, sub, pick));
}
`;

/**
 * Runs the probe on `device` and says what it flushes.
 *
 * @example
 * ```ts
 * import { requestDeviceOrThrow } from "./device.ts";
 * const { device } = await requestDeviceOrThrow("probe");
 * console.log((await probeSubnormals(device)).summary);
 * ```
 */
export async function probeSubnormals(device: GPUDevice): Promise<SubnormalBehaviour> {
  const operands = new Float32Array([2 ** -127, 0, 2 ** -126, 0.5, 1]);
  const r = new Uint32Array(
    (await runOneShotKernel(device, "subnormal probe", PROBE_WGSL, operands, 32, 1)).slice(0, 20),
  );
  const subBits = new Uint32Array(operands.buffer)[0];
  const comparisonsFlushInputs = r[0] === 0 || r[1] === 0;
  const arithmeticFlushesInputs = r[2] !== 0x00800000;
  const arithmeticFlushesOutputs = r[3] !== 0x00400000;
  const copiesKeepBits = r[4] === subBits;
  const yes = (b: boolean) => (b ? "yes" : "no");
  const flushes = comparisonsFlushInputs || arithmeticFlushesInputs || arithmeticFlushesOutputs;
  return {
    comparisonsFlushInputs,
    arithmeticFlushesInputs,
    arithmeticFlushesOutputs,
    copiesKeepBits,
    flushes,
    summary:
      `${flushes ? "flushes" : "keeps"} float32 subnormals: comparisons flush inputs ${
        yes(comparisonsFlushInputs)
      }, arithmetic flushes inputs ${yes(arithmeticFlushesInputs)}, outputs ${yes(arithmeticFlushesOutputs)}; ` +
      `copies ${copiesKeepBits ? "keep" : "change"} their bits`,
  };
}
