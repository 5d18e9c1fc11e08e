/**
 * Browser stand-in for `node:fs` in the browser bundle (build/build.ts maps the import here). Only
 * src/webgpu/engine.ts's Dawn set-up asks for it (to find a Vulkan driver), which a browser never
 * runs: a browser has its own `navigator.gpu`. A page sees no files.
 *
 * @module
 */

/** A page sees no files. */
export function existsSync(_path: string): boolean {
  return false;
}

/** A page sees no directories. */
export function readdirSync(_path: string): string[] {
  return [];
}
