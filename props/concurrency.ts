/**
 * The concurrency property lives in props/properties/concurrency.ts. This module only keeps the
 * import path that code outside props/ still uses (src/concurrent_backends_binding_limits.test.ts);
 * import from props/properties.ts instead, then delete this file.
 *
 * @module
 */
/** @deprecated Import `traceKernels` from props/properties.ts. */
export { traceKernels } from "./properties/concurrency.ts";
