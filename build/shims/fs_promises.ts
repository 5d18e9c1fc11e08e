/**
 * Browser stand-in for `node:fs/promises` in the browser bundle (build/build.ts maps the import
 * here): src/model_files.ts's `saveToDirectory` / `loadFromDirectory` write and read a model's
 * files, and a page has no file system, so each call rejects saying so and what to use instead.
 *
 * @module
 */

function noFileSystem(): never {
  throw new Error(
    "saveToDirectory / loadFromDirectory need a file system (Deno or Node); a browser has none: save with " +
      "tf.io.browserDownloads, tf.io.browserLocalStorage or indexeddb:// instead",
  );
}

/** Rejects: a page has no file system. */
export function mkdir(_path: string, _options?: unknown): Promise<never> {
  return Promise.resolve().then(noFileSystem);
}

/** Rejects: a page has no file system. */
export function writeFile(_path: string, _data: unknown): Promise<never> {
  return Promise.resolve().then(noFileSystem);
}

/** Rejects: a page has no file system. */
export function readFile(_path: string, _encoding?: string): Promise<never> {
  return Promise.resolve().then(noFileSystem);
}
