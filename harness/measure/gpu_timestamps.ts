/**
 * GPU timestamps for code that hides its command encoders (BenchHandle does, by contract).
 *
 * BenchHandle exposes no compute pass to attach `timestampWrites` to, so this module wraps a few
 * WebGPU prototype methods for the benchmark process only:
 * - `GPUAdapter.requestDevice` adds the "timestamp-query" feature when the adapter lists it, so
 *   every device created afterwards (tfjs's, the WGSL entries', the copy kernel's) can be timed;
 * - `GPUDevice.createCommandEncoder` remembers each encoder's device;
 * - `GPUCommandEncoder.beginComputePass`, while a measurement is open, gives each compute pass a
 *   pair of timestamp slots (passes that already carry `timestampWrites` are left alone and
 *   counted as untimed);
 * - `GPUCommandEncoder.finish` appends the query resolution and a copy to a mappable buffer.
 * Closing the measurement maps those buffers (after the timed call, outside its wall-clock time)
 * and sums end - begin over the passes: the device time spent inside compute passes. Copies and
 * queue writes outside passes are not counted; gaps between passes are not counted.
 *
 * Install before any device is created (tfjs's included). The wrappers only change behaviour
 * while a measurement is open; outside it they add a WeakMap lookup per call.
 *
 * @module
 */

/** Device time of the work submitted between {@link GpuPassClock.begin} and `end`. */
export interface GpuPassTime {
  /** Sum over timed compute passes of end - begin, in milliseconds. */
  readonly ms: number;
  /** Compute passes timed. */
  readonly passes: number;
  /** Compute passes begun during the measurement that could not be timed. */
  readonly untimedPasses: number;
}

/** Opens and closes one measurement at a time. */
export interface GpuPassClock {
  /** Starts attributing compute passes to a new measurement (closes none). */
  begin(): void;
  /** Ends the measurement opened by `begin` and reads its timestamps back. */
  end(): Promise<GpuPassTime>;
}

/** Timestamp slots per query set: 32 passes per command encoder. */
const SLOTS = 64;

interface SlotSet {
  readonly querySet: GPUQuerySet;
  readonly resolve: GPUBuffer;
  readonly staging: GPUBuffer;
  used: number;
  generation: number;
}

interface EncoderState {
  readonly device: GPUDevice;
  slots: SlotSet | null;
}

let installed: GpuPassClock | null = null;

/**
 * Installs the wrappers (once per process) and returns the clock. Throws when this runtime has
 * no WebGPU classes to wrap.
 */
export function installGpuPassClock(): GpuPassClock {
  if (installed) return installed;
  const g = globalThis as unknown as Record<string, { prototype: Record<string, unknown> } | undefined>;
  for (const name of ["GPUAdapter", "GPUDevice", "GPUCommandEncoder"]) {
    if (!g[name]) throw new Error(`GPU timestamps: ${name} is missing: this runtime has no WebGPU`);
  }
  const adapterProto = GPUAdapter.prototype;
  const deviceProto = GPUDevice.prototype;
  const encoderProto = GPUCommandEncoder.prototype;
  const originalRequestDevice = adapterProto.requestDevice;
  const originalCreateCommandEncoder = deviceProto.createCommandEncoder;
  const originalBeginComputePass = encoderProto.beginComputePass;
  const originalFinish = encoderProto.finish;

  const encoders = new WeakMap<GPUCommandEncoder, EncoderState>();
  const pools = new WeakMap<GPUDevice, SlotSet[]>();
  let open = false;
  let generation = 0;
  let untimed = 0;
  let pending: SlotSet[] = [];
  /** Slot sets handed out in the open measurement whose encoder has not been finished yet. */
  const live = new Set<SlotSet>();

  function acquire(device: GPUDevice): SlotSet {
    const pool = pools.get(device) ?? [];
    pools.set(device, pool);
    const reused = pool.pop();
    if (reused) {
      reused.used = 0;
      reused.generation = generation;
      return reused;
    }
    return {
      querySet: device.createQuerySet({ type: "timestamp", count: SLOTS }),
      resolve: device.createBuffer({ size: SLOTS * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      staging: device.createBuffer({ size: SLOTS * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      used: 0,
      generation,
    };
  }

  function release(device: GPUDevice, slots: SlotSet): void {
    pools.get(device)?.push(slots);
  }

  const deviceOf = new WeakMap<SlotSet, GPUDevice>();

  adapterProto.requestDevice = function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
    const required = [...(descriptor?.requiredFeatures ?? [])];
    if (this.features.has("timestamp-query") && !required.includes("timestamp-query")) {
      required.push("timestamp-query");
    }
    return originalRequestDevice.call(this, { ...descriptor, requiredFeatures: required });
  };

  deviceProto.createCommandEncoder = function (this: GPUDevice, descriptor?: GPUCommandEncoderDescriptor) {
    const encoder = originalCreateCommandEncoder.call(this, descriptor);
    encoders.set(encoder, { device: this, slots: null });
    return encoder;
  };

  encoderProto.beginComputePass = function (this: GPUCommandEncoder, descriptor?: GPUComputePassDescriptor) {
    if (!open) return originalBeginComputePass.call(this, descriptor);
    const state = encoders.get(this);
    if (!state || !state.device.features.has("timestamp-query") || descriptor?.timestampWrites) {
      untimed++;
      return originalBeginComputePass.call(this, descriptor);
    }
    if (!state.slots) {
      state.slots = acquire(state.device);
      deviceOf.set(state.slots, state.device);
      live.add(state.slots);
    }
    const slots = state.slots;
    if (slots.used + 2 > SLOTS) {
      untimed++;
      return originalBeginComputePass.call(this, descriptor);
    }
    const begin = slots.used;
    slots.used += 2;
    return originalBeginComputePass.call(this, {
      ...descriptor,
      timestampWrites: { querySet: slots.querySet, beginningOfPassWriteIndex: begin, endOfPassWriteIndex: begin + 1 },
    });
  };

  encoderProto.finish = function (this: GPUCommandEncoder, descriptor?: GPUCommandBufferDescriptor) {
    const state = encoders.get(this);
    if (state?.slots && state.slots.used > 0) {
      const slots = state.slots;
      state.slots = null;
      live.delete(slots);
      this.resolveQuerySet(slots.querySet, 0, slots.used, slots.resolve, 0);
      this.copyBufferToBuffer(slots.resolve, 0, slots.staging, 0, slots.used * 8);
      pending.push(slots);
    }
    return originalFinish.call(this, descriptor);
  };

  installed = {
    begin() {
      open = true;
      generation++;
      untimed = 0;
    },
    async end() {
      open = false;
      const mine = pending;
      pending = [];
      let ns = 0n;
      let passes = 0;
      let lost = untimed;
      // Passes of encoders still unfinished: their work was never submitted inside the measurement.
      for (const slots of live) lost += slots.used / 2;
      live.clear();
      await Promise.all(mine.map(async (slots) => {
        const pairs = slots.used / 2;
        if (slots.generation !== generation) {
          // Begun in an earlier measurement and finished in this one: attribute it to neither.
          lost += pairs;
        } else {
          try {
            await slots.staging.mapAsync(GPUMapMode.READ, 0, slots.used * 8);
            const stamps = new BigUint64Array(slots.staging.getMappedRange(0, slots.used * 8).slice(0));
            slots.staging.unmap();
            for (let p = 0; p < pairs; p++) {
              const begin = stamps[2 * p];
              const end = stamps[2 * p + 1];
              // Zeros or a reversed pair: the driver did not time this pass.
              if (end > begin && begin !== 0n) {
                ns += end - begin;
                passes++;
              } else {
                lost++;
              }
            }
          } catch {
            lost += pairs; // the device was destroyed or lost meanwhile
            return;
          }
        }
        const device = deviceOf.get(slots);
        if (device) release(device, slots);
      }));
      return { ms: Number(ns) / 1e6, passes, untimedPasses: lost };
    },
  };
  return installed;
}
