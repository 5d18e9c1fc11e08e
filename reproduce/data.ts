/**
 * Reads the original repository's cluttered-MNIST file (`data/mnist_sequence1_sample_5distortions5x5.npz`):
 * a zip (fflate) of NumPy .npy arrays (npyjs). X_* are float32 [n, 1600] (40x40 grey images, 0..1),
 * y_* int32 [n, 1] (digits 0..9); X_train 10,000, X_valid 1,000, X_test 1,000.
 *
 * @module
 */
import { unzipSync } from "fflate";
import { parse } from "npyjs";

/** The npz shipped with the project, relative to the repository root. */
export const DEFAULT_DATA_FILE = new URL("../data/mnist_sequence1_sample_5distortions5x5.npz", import.meta.url);

/** Image side length. */
export const IMAGE_SIZE = 40;
/** Pixels per image (40 x 40, one channel). */
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** Number of classes (digits). */
export const CLASSES = 10;

/** A set of images and labels, rows in file order. */
export interface Split {
  /** [n, 1600] row-major float32 pixels in 0..1. */
  readonly x: Float32Array;
  /** [n] int32 labels in 0..9. */
  readonly y: Int32Array;
  /** Number of images. */
  readonly n: number;
}

/** The experiment's data as the original train.py uses it: train = X_train + X_valid, evaluation on X_test. */
export interface ClutteredMnist {
  /** X_train followed by X_valid (11,000 images). */
  readonly train: Split;
  /** X_test (1,000 images): the article's "validation" figures are on this set. */
  readonly test: Split;
}

/** A malformed data file: names the array and what was wrong. */
export class DataFileError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "DataFileError";
  }
}

interface NpyArray {
  readonly data: ArrayBufferView;
  readonly shape: number[];
  readonly dtype: string;
  readonly fortranOrder: boolean;
}

function readArray(files: Record<string, Uint8Array>, name: string, source: string): NpyArray {
  const bytes = files[`${name}.npy`];
  if (!bytes) {
    throw new DataFileError(source, `no ${name}.npy in the archive (found: ${Object.keys(files).join(", ")})`);
  }
  // npyjs parses an ArrayBuffer; copy out the member's bytes (fflate hands out views into one buffer).
  const arr = parse(bytes.slice().buffer) as NpyArray;
  if (arr.fortranOrder) throw new DataFileError(source, `${name}: expected C order, received Fortran order`);
  return arr;
}

function readSplit(files: Record<string, Uint8Array>, suffix: string, source: string): Split {
  const x = readArray(files, `X_${suffix}`, source);
  const y = readArray(files, `y_${suffix}`, source);
  if (x.dtype !== "f4" || !(x.data instanceof Float32Array)) {
    throw new DataFileError(source, `X_${suffix}: expected float32, received dtype ${x.dtype}`);
  }
  if (x.shape.length !== 2 || x.shape[1] !== IMAGE_PIXELS) {
    throw new DataFileError(source, `X_${suffix}: expected shape [n, ${IMAGE_PIXELS}], received [${x.shape}]`);
  }
  if (y.dtype !== "i4" || !(y.data instanceof Int32Array)) {
    throw new DataFileError(source, `y_${suffix}: expected int32, received dtype ${y.dtype}`);
  }
  const n = x.shape[0];
  if (y.shape.length !== 2 || y.shape[0] !== n || y.shape[1] !== 1) {
    throw new DataFileError(source, `y_${suffix}: expected shape [${n}, 1], received [${y.shape}]`);
  }
  for (let i = 0; i < n; i++) {
    const label = y.data[i];
    if (!(label >= 0 && label < CLASSES)) {
      throw new DataFileError(source, `y_${suffix}[${i}]: expected a label in 0..${CLASSES - 1}, received ${label}`);
    }
  }
  return { x: x.data, y: y.data, n };
}

function concat(a: Split, b: Split): Split {
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x, 0);
  x.set(b.x, a.x.length);
  const y = new Int32Array(a.n + b.n);
  y.set(a.y, 0);
  y.set(b.y, a.n);
  return { x, y, n: a.n + b.n };
}

/** Parses the npz bytes. @throws DataFileError for a missing array, wrong dtype, shape or label. */
export function parseClutteredMnist(bytes: Uint8Array, source = "npz"): ClutteredMnist {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new DataFileError(source, `not a readable zip/npz archive (${e instanceof Error ? e.message : e})`);
  }
  const train = concat(readSplit(files, "train", source), readSplit(files, "valid", source));
  return { train, test: readSplit(files, "test", source) };
}

/** Reads and parses the npz at `file` (default: the project's copy). */
export async function loadClutteredMnist(file: string | URL = DEFAULT_DATA_FILE): Promise<ClutteredMnist> {
  return parseClutteredMnist(await Deno.readFile(file), String(file));
}

/** The first `n` images of a split (all of them when n >= split.n). */
export function head(split: Split, n: number): Split {
  if (n >= split.n) return split;
  return { x: split.x.subarray(0, n * IMAGE_PIXELS), y: split.y.subarray(0, n), n };
}
