/**
 * Moved to lib/backends/select.ts (with the native backend and the wasm training kernels in
 * lib/backends/). This re-export keeps older importers compiling; import from
 * lib/backends/select.ts instead.
 */
export * from "./backends/select.ts";
