/**
 * GPU buffers the WGSL host creates, counted so tests can prove that nothing leaks, and a pool
 * of named buffers reused across calls.
 *
 * @module
 */

/** Counts of the buffers a host created and destroyed. */
export interface BufferStats {
  /** Buffers created since the host was built. */
  readonly created: number;
  /** Buffers destroyed since the host was built. */
  readonly destroyed: number;
  /** Buffers alive now (created − destroyed). */
  readonly live: number;
  /** Bytes held by the live buffers. */
  readonly liveBytes: number;
}

/** Creates and destroys buffers on one device, counting both. */
export class BufferTracker {
  #created = 0;
  #destroyed = 0;
  readonly #live = new Set<GPUBuffer>();

  /** Creates a buffer and counts it. */
  create(device: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = device.createBuffer(descriptor);
    this.#created++;
    this.#live.add(buffer);
    return buffer;
  }

  /** Destroys a buffer this tracker created (a second call is a no-op). */
  destroy(buffer: GPUBuffer): void {
    if (!this.#live.delete(buffer)) return;
    buffer.destroy();
    this.#destroyed++;
  }

  /** Destroys every live buffer. */
  destroyAll(): void {
    for (const b of [...this.#live]) this.destroy(b);
  }

  /** Current counts. */
  stats(): BufferStats {
    let liveBytes = 0;
    for (const b of this.#live) liveBytes += b.size;
    return { created: this.#created, destroyed: this.#destroyed, live: this.#live.size, liveBytes };
  }
}

/**
 * Named buffers reused across calls: `get` returns the buffer already held under that name when
 * it is large enough and has the same usage, and replaces it otherwise. Sizes grow to the next
 * power of two (at least 256 bytes) so a few differently sized calls do not churn buffers.
 */
export class BufferPool {
  readonly #held = new Map<string, GPUBuffer>();

  /** Builds a pool whose buffers `tracker` creates and destroys on `device`. */
  constructor(readonly device: GPUDevice, readonly tracker: BufferTracker) {}

  /** A buffer of at least `bytes` bytes with exactly `usage`, held under `name`. */
  get(name: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const held = this.#held.get(name);
    if (held && held.size >= bytes && held.usage === usage) return held;
    if (held) this.tracker.destroy(held);
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
    const limit = this.device.limits.maxBufferSize;
    const buffer = this.tracker.create(this.device, { label: `sortpool ${name}`, size: Math.min(size, limit), usage });
    this.#held.set(name, buffer);
    return buffer;
  }

  /** Destroys every held buffer. */
  clear(): void {
    for (const b of this.#held.values()) this.tracker.destroy(b);
    this.#held.clear();
  }
}
