/**
 * The backend names a user can ask for (`--backend`, `$SVRNN_BACKEND`): declared once, here,
 * without importing tfjs, so the command-line layer can list and check them cheaply.
 * lib/backends/select.ts starts them.
 */

/** The backends tfjs can run on here. */
export const BACKEND_NAMES = ["cpu", "wasm", "webgpu", "native"] as const;
export type BackendName = typeof BACKEND_NAMES[number];

/** What may be asked for: "auto" (WebGPU on a real GPU, else wasm) or a name. */
export const BACKEND_CHOICES = ["auto", ...BACKEND_NAMES] as const;
export type BackendChoice = typeof BACKEND_CHOICES[number];

export function isBackendChoice(s: unknown): s is BackendChoice {
  return typeof s === "string" && (BACKEND_CHOICES as readonly string[]).includes(s);
}
