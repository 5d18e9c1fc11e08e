/**
 * The test kit that the property checks (props/) and the conformance kit (conformance/) share:
 * precisions, tolerances, window facts, failure rendering and the JSON number encoding. It depends
 * on src/ (the spec's arithmetic) and on nothing else in the repository.
 *
 * @module
 */
export * from "./precision.ts";
export * from "./tolerance.ts";
export * from "./windows.ts";
export * from "./render.ts";
export * from "./number_encoding.ts";
