/**
 * The messages between the gate (the driver) and its worker processes (gate/worker.ts), one per
 * tree being timed. Both trees register tfjs kernels under the same names, so each tree's registry
 * lives in a process of its own; the driver asks them round by round to time one sample.
 *
 * Transport: one JSON document per line. Requests go to the worker's stdin; replies come on its
 * stdout, each line starting with {@link LINE_MARK} (the worker sends everything else that the
 * timed code prints to stderr, and the driver ignores unmarked stdout lines).
 *
 * @module
 */
import type { Readings } from "../harness/measure/clocks.ts";
import type { BenchPass } from "../harness/measure/passes.ts";
import type { CaseSpec } from "./workload.ts";

/** Prefix of every protocol line on a worker's stdout. */
export const LINE_MARK = "@@sortpool-gate@@ ";

/** What a worker says first: the tree's registry as it sees it, or why it could not load it. */
export interface Hello {
  /** The tree's root directory. */
  readonly tree: string;
  /** The tree's registry entries (empty when it did not load). */
  readonly entries: readonly EntryInfo[];
  /** Why `src/registry.ts` of the tree could not be imported; absent when it loaded. */
  readonly loadError?: string;
  /** The WebGPU adapter this process got, or null with the reason. */
  readonly adapter: AdapterInfo | null;
  readonly noAdapter?: string;
}

/** One registry entry as a worker reports it. */
export interface EntryInfo {
  readonly name: string;
  /** `Implementation.gated`; null when the tree's entries have no such field (a tree older than the field). */
  readonly gated: boolean | null;
  readonly device: string;
  /** Whether it has `prepareBench` (a bench handle the gate can time). */
  readonly bench: boolean;
}

/** The adapter fields the driver needs. */
export interface AdapterInfo {
  readonly description: string;
  readonly vendor: string;
  readonly isFallbackAdapter: boolean;
}

/** A request to a worker. `id` is echoed in the reply. */
export type Request =
  | {
    readonly id: number;
    readonly op: "prepare";
    readonly handle: string;
    readonly entry: string;
    readonly case: CaseSpec;
  }
  | {
    readonly id: number;
    readonly op: "measure";
    readonly handle: string;
    readonly pass: BenchPass;
    readonly repetitions: number;
  }
  | { readonly id: number; readonly op: "dispose"; readonly handle: string }
  | { readonly id: number; readonly op: "exit" };

/** A worker's reply to request `id`. */
export type Reply =
  | { readonly id: number; readonly ok: true; readonly readings?: Readings }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** A line as the worker writes it. */
export type WorkerLine = { readonly hello: Hello } | { readonly reply: Reply };

/** Splits a byte stream into text lines (without the newline); a last unterminated line is yielded too. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) yield pending;
}

/** Writes all of `text` to `writer` (a pipe may take it in pieces). */
export async function writeAll(write: (bytes: Uint8Array) => Promise<number>, text: string): Promise<void> {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(await write(bytes));
}
