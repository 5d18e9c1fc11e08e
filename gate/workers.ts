/**
 * The driver's side of the gate's worker processes (gate/worker.ts): starts one per tree, sends
 * requests and awaits their replies (gate/protocol.ts), and stops it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { Readings } from "../harness/measure/clocks.ts";
import type { EngineInfo } from "../src/webgpu/engine.ts";
import { type Hello, LINE_MARK, readLines, type Reply, type Request, type WorkerLine, writeAll } from "./protocol.ts";

/**
 * A worker's hello with what names its WebGPU engine and adapter (gate/worker.ts sends them; a
 * worker of an older gate tree does not, hence optional).
 */
export interface WorkerHello extends Hello {
  /** The engine the worker process uses (src/webgpu/engine.ts; SORTPOOL_ENGINE, inherited from the gate). */
  readonly engine?: EngineInfo;
  /** The adapter in one line from adapter.info plus the engine (src/webgpu/engine.ts `describeAdapter`). */
  readonly adapterLine?: string;
  /** DENO_WEBGPU_BACKEND as the worker saw it ("" when unset): a request, reported beside the adapter line. */
  readonly denoWebgpuBackend?: string;
}

/** Root of the tree the gate runs from (its worker script, configuration and packages). */
export const GATE_ROOT: string = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/** Longest wait for a worker's hello (Deno start, tfjs import, registry import, adapter). */
const HELLO_TIMEOUT_MS = 180_000;
/** Longest wait for one reply (a prepare compiles shaders; a sample runs a few calls). */
const REPLY_TIMEOUT_MS = 180_000;
/**
 * The same on Dawn: SwiftShader compiles a tree's kernels in about a minute per prepare (more
 * when both workers compile at once on a loaded machine), and runs them 8-12x slower than lavapipe.
 */
const DAWN_REPLY_TIMEOUT_MS = 600_000;
/** Lines of a worker's stderr kept for error messages. */
const STDERR_TAIL = 30;

/** Request without its id (the client numbers them). */
type RequestBody = Request extends infer R ? R extends { id: number } ? Omit<R, "id"> : never : never;

/** A running worker process for one tree. */
export class GateWorker {
  readonly label: string;
  readonly tree: string;
  readonly hello: WorkerHello;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending: Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>;
  readonly #stderr: string[];
  #nextId = 1;
  #closed = false;

  private constructor(
    label: string,
    tree: string,
    hello: WorkerHello,
    child: Deno.ChildProcess,
    pending: Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>,
    stderr: string[],
  ) {
    this.label = label;
    this.tree = tree;
    this.hello = hello;
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#pending = pending;
    this.#stderr = stderr;
  }

  /**
   * Starts a worker on `tree` and waits for its hello. Throws (after stopping the process) when
   * it exits or stays silent first; the message carries the end of its stderr.
   */
  static async start(label: string, tree: string, log?: (line: string) => void): Promise<GateWorker> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", `${GATE_ROOT}/deno.json`, `${GATE_ROOT}/gate/worker.ts`, "--tree", tree],
      cwd: GATE_ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr: string[] = [];
    const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
    let helloResolve!: (h: WorkerHello) => void;
    let helloReject!: (e: Error) => void;
    const hello = new Promise<WorkerHello>((resolve, reject) => ((helloResolve = resolve), (helloReject = reject)));
    const tail = () => (stderr.length ? `; its stderr ends with:\n  ${stderr.join("\n  ")}` : "");
    (async () => {
      for await (const line of readLines(child.stderr)) {
        stderr.push(line);
        if (stderr.length > STDERR_TAIL) stderr.shift();
      }
    })().catch(() => {});
    (async () => {
      for await (const line of readLines(child.stdout)) {
        if (!line.startsWith(LINE_MARK)) continue;
        const parsed = JSON.parse(line.slice(LINE_MARK.length)) as WorkerLine;
        if ("hello" in parsed) helloResolve(parsed.hello);
        else {
          const waiter = pending.get(parsed.reply.id);
          pending.delete(parsed.reply.id);
          waiter?.resolve(parsed.reply);
        }
      }
      const status = await child.status;
      const gone = new Error(`gate worker ${label} (${tree}) exited with code ${status.code}${tail()}`);
      helloReject(gone);
      for (const w of pending.values()) w.reject(gone);
      pending.clear();
    })().catch((e) => {
      const broken = new Error(`gate worker ${label}: unreadable output: ${e instanceof Error ? e.message : e}`);
      helloReject(broken);
      for (const w of pending.values()) w.reject(broken);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const got = await Promise.race([
        hello,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new Error(`gate worker ${label} (${tree}) said nothing in ${HELLO_TIMEOUT_MS / 1000} s${tail()}`)),
            HELLO_TIMEOUT_MS,
          );
        }),
      ]);
      log?.(
        `${label}: ${tree}: ${
          got.loadError ? `registry not loaded (${got.loadError})` : `${got.entries.length} entries`
        }`,
      );
      return new GateWorker(label, tree, got, child, pending, stderr);
    } catch (e) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `body` and resolves with the reply's readings (if any); throws with the worker's error. */
  async request(body: RequestBody): Promise<Readings | undefined> {
    if (this.#closed) throw new Error(`gate worker ${this.label}: used after close`);
    const timeoutMs = this.hello.engine?.name === "dawn" ? DAWN_REPLY_TIMEOUT_MS : REPLY_TIMEOUT_MS;
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    await writeAll((b) => this.#writer.write(b).then(() => b.length), `${JSON.stringify({ ...body, id })}\n`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const r = await Promise.race([
        reply,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            this.#pending.delete(id);
            reject(new Error(`gate worker ${this.label}: no reply to ${body.op} in ${timeoutMs / 1000} s`));
          }, timeoutMs);
        }),
      ]);
      if (!r.ok) throw new Error(`${this.label}: ${body.op} failed: ${r.error}`);
      return r.readings;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the worker to free everything and exit; kills it if it does not within 20 s. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await Promise.race([this.request({ op: "exit" }), new Promise((r) => setTimeout(r, 20_000))]);
    } catch { /* it may be gone already */ }
    this.#closed = true;
    try {
      await this.#writer.close();
    } catch { /* closed */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5_000);
    await this.#child.status;
    clearTimeout(timer);
  }
}
