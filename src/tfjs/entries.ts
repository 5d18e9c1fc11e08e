/**
 * The registry entries of the tfjs implementations: every family on every tfjs backend.
 *
 * @module
 */
import type { Implementation } from "../types.ts";
import { type TfjsFamily, tfjsImplementation } from "./family.ts";
import { networkFamily } from "./network.ts";
import type { TfjsBackendName } from "./runtime.ts";
import { topkFamily } from "./topk.ts";

/** Families and the backends each runs on. */
const TABLE: readonly { family: TfjsFamily; backends: readonly TfjsBackendName[] }[] = [
  { family: topkFamily, backends: ["cpu", "webgpu"] },
  { family: networkFamily, backends: ["cpu", "webgpu"] },
];

/** `tfjs-topk@cpu`, `tfjs-topk@webgpu`, `tfjs-network@cpu`, `tfjs-network@webgpu`. */
export const tfjsImplementations: readonly Implementation[] = TABLE.flatMap(({ family, backends }) =>
  backends.map((backend) => tfjsImplementation(family, backend))
);
