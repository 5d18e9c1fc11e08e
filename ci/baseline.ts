/**
 * The committed baseline (ci/baseline.json): per adapter, the median ratio entry / tf.maxPool of
 * every gated entry and pass, recorded by `deno task gate --update-baseline`.
 *
 * Adapters are keyed by their description plus the WebGPU backend that Deno was told to use:
 * Mesa's llvmpipe reports the same description through GL and through Vulkan (lavapipe), yet
 * the two paths run the same shaders at different speeds.
 *
 * @module
 */

/** The two timed passes of a BenchHandle. */
export type PassName = "forward" | "forwardBackward";

/** Both passes, in report order. */
export const PASSES: readonly PassName[] = ["forward", "forwardBackward"];

/** Human label of a pass for the summary. */
export function passLabel(pass: PassName): string {
  return pass === "forward" ? "forward" : "forward+backward";
}

/** One recorded ratio with the interval it was measured with (the interval is informative). */
export interface RecordedRatio {
  /** Median ratio entry / tf.maxPool; the gate compares against this. */
  readonly ratio: number;
  /** Bootstrap interval of that median when recorded. */
  readonly low: number;
  readonly high: number;
}

/** Everything recorded for one adapter. */
export interface AdapterBaseline {
  /** Workload id (shape, k, padding) the ratios belong to; another workload needs a new record. */
  readonly workload: string;
  /** ISO time of the recording. */
  readonly recorded: string;
  /** Deno version that recorded it. */
  readonly deno: string;
  /** Ratios per entry name, then per pass. */
  readonly ratios: Record<string, Partial<Record<PassName, RecordedRatio>>>;
}

/** The file's whole content. */
export interface BaselineFile {
  /** Format tag, so a future layout change is detected instead of misread. */
  readonly format: typeof BASELINE_FORMAT;
  /** Per adapter key (see {@link adapterKey}). */
  readonly adapters: Record<string, AdapterBaseline>;
}

/** Format tag written into the file. */
export const BASELINE_FORMAT = "sortpool-gate-baseline/1";

/** Default location of the committed baseline. */
export const DEFAULT_BASELINE_PATH: string = new URL("./baseline.json", import.meta.url).pathname;

/**
 * The baseline key of an adapter: its description (vendor/device ids when it has none), the value
 * of DENO_WEBGPU_BACKEND ("unset" when absent: Deno then picks its default backend, which is
 * Vulkan where a Vulkan driver is installed, so "unset" gets its own record), and for a
 * CPU-emulated adapter the host CPU's model: there the "GPU" is the CPU, and the same Mesa build
 * on another processor (other caches, other vector units) gives other ratios.
 */
export function adapterKey(
  info: Pick<GPUAdapterInfo, "description" | "vendor" | "device">,
  backendEnv: string | undefined,
  cpuModel?: string,
): string {
  const name = info.description?.trim() || `vendor ${info.vendor || "?"} device ${info.device || "?"}`;
  const cpu = cpuModel === undefined ? "" : ` | CPU ${cpuModel.trim() || "unknown"}`;
  return `${name} | DENO_WEBGPU_BACKEND=${backendEnv?.trim() || "unset"}${cpu}`;
}

/** An empty baseline file. */
export function emptyBaseline(): BaselineFile {
  return { format: BASELINE_FORMAT, adapters: {} };
}

/**
 * Parses baseline JSON text, checking its shape so that a hand-edited file fails with a message
 * naming the bad field instead of producing a silent pass.
 */
export function parseBaseline(text: string, source: string): BaselineFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`baseline ${source}: not valid JSON (${(e as Error).message})`);
  }
  const fail = (what: string): never => {
    throw new Error(`baseline ${source}: ${what}; re-record it with \`deno task gate --update-baseline\``);
  };
  if (typeof data !== "object" || data === null) return fail("expected a JSON object");
  const file = data as Record<string, unknown>;
  if (file.format !== BASELINE_FORMAT) {
    return fail(`format: expected "${BASELINE_FORMAT}", received ${JSON.stringify(file.format)}`);
  }
  if (typeof file.adapters !== "object" || file.adapters === null) return fail("adapters: expected an object");
  for (const [key, value] of Object.entries(file.adapters as Record<string, unknown>)) {
    const a = value as Partial<AdapterBaseline> | null;
    if (typeof a !== "object" || a === null) return fail(`adapters["${key}"]: expected an object`);
    if (typeof a.workload !== "string") return fail(`adapters["${key}"].workload: expected a string`);
    if (typeof a.ratios !== "object" || a.ratios === null) return fail(`adapters["${key}"].ratios: expected an object`);
    for (const [entry, passes] of Object.entries(a.ratios)) {
      for (const [pass, r] of Object.entries(passes ?? {})) {
        if (!(PASSES as readonly string[]).includes(pass)) {
          return fail(`adapters["${key}"].ratios["${entry}"]: unknown pass "${pass}"`);
        }
        if (typeof r?.ratio !== "number" || !(r.ratio > 0) || !Number.isFinite(r.ratio)) {
          return fail(`adapters["${key}"].ratios["${entry}"].${pass}.ratio: expected a positive number`);
        }
      }
    }
  }
  return data as BaselineFile;
}

/** Reads the baseline at `path`; a missing file reads as empty (every adapter then lacks a record). */
export async function readBaseline(path: string): Promise<BaselineFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return emptyBaseline();
    throw e;
  }
  return parseBaseline(text, path);
}

/**
 * Returns `file` with the record of `key` replaced by `record`. When the workload is unchanged,
 * entries present in the old record but not measured now are kept (so gating a subset with
 * --entries does not erase the others); a changed workload replaces the record whole.
 */
export function mergeBaseline(file: BaselineFile, key: string, record: AdapterBaseline): BaselineFile {
  const old = file.adapters[key];
  const ratios = old && old.workload === record.workload ? { ...old.ratios } : {};
  for (const [entry, passes] of Object.entries(record.ratios)) ratios[entry] = { ...ratios[entry], ...passes };
  const adapters = { ...file.adapters, [key]: { ...record, ratios } };
  const sorted = Object.fromEntries(Object.keys(adapters).sort().map((k) => [k, adapters[k]]));
  return { format: BASELINE_FORMAT, adapters: sorted };
}

/** Writes the baseline as stable, formatted JSON (keys sorted, 2-space indent, final newline). */
export async function writeBaseline(path: string, file: BaselineFile): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(file, null, 2) + "\n");
}

/**
 * The recorded ratio for `entry`/`pass` on adapter `key` and `workload`, or why there is none.
 */
export function lookupBaseline(
  file: BaselineFile,
  key: string,
  workload: string,
  entry: string,
  pass: PassName,
): { ratio: number } | { missing: string } {
  const a = file.adapters[key];
  if (!a) return { missing: `no baseline for adapter "${key}"` };
  if (a.workload !== workload) {
    return { missing: `baseline for this adapter was recorded with workload "${a.workload}", not "${workload}"` };
  }
  const r = a.ratios[entry]?.[pass];
  if (!r) return { missing: `no baseline for ${entry} ${passLabel(pass)} on this adapter` };
  return { ratio: r.ratio };
}
