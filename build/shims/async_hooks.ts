/**
 * Browser stand-in for `node:async_hooks` in the browser bundle (build/build.ts maps the import
 * here). Browsers have no AsyncLocalStorage yet, so this one keeps the store of the `run` call in
 * progress until the promise it returned settles, instead of per async context. That is exact for
 * the library's one use (src/tfjs/runtime.ts's backend turns, which run one at a time in a FIFO
 * queue): code inside a turn sees its turn. Code outside the turn that runs while a turn is in
 * progress sees that turn too, so there a concurrent `withBackend` call of another backend throws
 * instead of queueing: in a browser, await one backend's calls before starting another's.
 *
 * @module
 */

/** The subset of Node's AsyncLocalStorage that the library uses. */
export class AsyncLocalStorage<T> {
  #store: T | undefined;

  /** The store of the `run` call in progress, or undefined. */
  getStore(): T | undefined {
    return this.#store;
  }

  /** Runs `fn` with `store` current until it returns, or until the promise it returns settles. */
  run<R>(store: T, fn: () => R): R {
    const previous = this.#store;
    this.#store = store;
    let result: R;
    try {
      result = fn();
    } catch (e) {
      this.#store = previous;
      throw e;
    }
    if (result instanceof Promise) {
      const restore = () => {
        if (this.#store === store) this.#store = previous;
      };
      result.then(restore, restore);
    } else {
      this.#store = previous;
    }
    return result;
  }
}
