/**
 * Whether a WebGPU device's shader compiler contracts `acc += w * v` (a multiply feeding an add)
 * into one fused multiply-add, rounding once instead of twice. SPIR-V lets a Vulkan driver fuse
 * unless told not to, and GPU compilers commonly do; Mesa's llvmpipe (GL and Vulkan) and
 * SwiftShader do not (measured). The kernels' weighted sums have exactly this shape, so tests that
 * pin their bits to a twice-rounded float32 evaluation ask this first (SPEC.md §5 "What is
 * bitwise").
 *
 * @module
 */
import { runOneShotKernel } from "./one_shot_kernel.ts";

/** What the probe found. */
export interface ContractionBehaviour {
  /** How many of the probe's sums came out rounded once (fused), of `cases`. */
  readonly fused: number;
  /** How many came out rounded twice (product, then sum), of `cases`. */
  readonly separate: number;
  /** Sums the probe tried: each one where the two roundings give different float32 results. */
  readonly cases: number;
  /** True when every sum was rounded twice: the device evaluates `acc + w * v` as written. */
  readonly roundsSeparately: boolean;
}

const PROBE_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> operands: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= arrayLength(&sums)) {
    return;
  }
  let o = operands[i];
  var acc = o.x;
  acc += o.y * o.z;
  sums[i] = acc;
}
`;

/** Float32 a + b·c rounded once (exactly: b·c is exact in float64, one correction at a tie). */
function fusedF32(a: number, b: number, c: number): number {
  const p = b * c;
  const s = p + a;
  const t = s - p;
  const err = (p - (s - t)) + (a - t);
  const r = Math.fround(s);
  if (r === s || err === 0) return r;
  // s lies between float32 neighbours r and `other`; only an exact midpoint needs err's sign.
  const bits = new Float32Array([r]);
  const u = new Uint32Array(bits.buffer);
  const towardS = (s > r) === (r >= 0) ? 1 : -1;
  u[0] += towardS;
  const other = bits[0];
  if (Math.abs(s - r) !== Math.abs(other - s)) return r;
  return (err > 0) === (other > r) ? other : r;
}

/** Seeded triples (acc, w, v) where a fused and a twice-rounded `acc + w * v` differ in float32. */
function probeTriples(count: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(count * 4);
  let s = 0x9e3779b9;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let n = 0;
  while (n < count) {
    const a = Math.fround(next() * 2 - 1);
    const b = Math.fround(next());
    const c = Math.fround(next() * 8 - 4);
    if (Math.fround(a + Math.fround(b * c)) === fusedF32(a, b, c)) continue;
    out.set([a, b, c, 0], n * 4);
    n++;
  }
  return out;
}

/**
 * Runs the probe on `device`: 256 sums `acc + w * v` whose fused and twice-rounded float32 results
 * differ, compared with both.
 */
export async function probeContraction(device: GPUDevice): Promise<ContractionBehaviour> {
  const count = 256;
  const operands = probeTriples(count);
  const sums = new Float32Array(
    await runOneShotKernel(device, "contraction probe", PROBE_WGSL, operands, count * 4, count),
  );
  let fused = 0;
  let separate = 0;
  for (let i = 0; i < count; i++) {
    const [a, b, c] = operands.subarray(i * 4, i * 4 + 3);
    if (sums[i] === fusedF32(a, b, c)) fused++;
    else if (sums[i] === Math.fround(a + Math.fround(b * c))) separate++;
  }
  return { fused, separate, cases: count, roundsSeparately: separate === count };
}
