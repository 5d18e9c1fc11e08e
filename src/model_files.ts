/**
 * A model's files on disk: {@link saveToDirectory} and {@link loadFromDirectory} write and read
 * tfjs's standard `model.json` + `weights.bin` with `node:fs/promises` (Deno and Node). This is the
 * library's only file access, and only when a caller asks to save or load a model: nothing reads
 * files at import, and the kernels reach the library as modules.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import "./layer.ts"; // registers SortPooling2D, which loading a model that holds one needs
import type { IOHandler, LayersModel } from "./tfjs/public_types.ts";
import { tf } from "./tfjs/runtime.ts";

/**
 * A save handler that writes a model to `directory` on disk as tfjs's standard pair
 * `model.json` + `weights.bin` (the layout `tf.io.http` and tfjs-node's file handler read), with
 * `node:fs/promises` (Deno and Node). tfjs's own `file://` handler exists only in tfjs-node, so
 * elsewhere `model.save("file://...")` finds no handler; use `model.save(saveToDirectory(dir))`.
 * The directory is created if missing; existing files of those two names are replaced. In a
 * browser the save rejects with an error saying so.
 */
export function saveToDirectory(directory: string): IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (!(artifacts.modelTopology && artifacts.weightSpecs && artifacts.weightData)) {
      throw new Error("saveToDirectory: the model artifacts have no topology or weights (not a LayersModel save?)");
    }
    const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: ["./weights.bin"], weights: artifacts.weightSpecs }],
      ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, "weights.bin"), new Uint8Array(weights));
    await writeFile(join(directory, "model.json"), JSON.stringify(modelJson));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  });
}

/**
 * Loads a model saved by {@link saveToDirectory} (or by tfjs-node's file handler) from `directory`
 * with `node:fs/promises` (Deno and Node): `model.json` and the weight files its manifest names,
 * handed to tfjs as in-memory artifacts. Custom layers such as {@link SortPooling2D} must be
 * registered first (importing this module does that). In a browser it rejects saying so.
 */
export async function loadFromDirectory(directory: string): Promise<LayersModel> {
  const modelJson = JSON.parse(await readFile(join(directory, "model.json"), "utf8")) as tf.io.ModelJSON;
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs = manifest.flatMap((group) => group.weights);
    const parts = await Promise.all(
      manifest.flatMap((group) => group.paths).map(async (path) => {
        const bytes = await readFile(join(directory, path));
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      }),
    );
    return [specs, tf.io.concatenateArrayBuffers(parts)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
