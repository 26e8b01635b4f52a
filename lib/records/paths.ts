/**
 * Where the kit's records live: the repository root, the results folder, the notebook
 * being executed (for provenance) and the shipped checkpoints. Shared by cli, notebooks and
 * viz, so it sits below all three.
 *
 * - `SVRNN_RESULTS=DIR`: where figures and tables go (default `<repo>/results`);
 * - `SVRNN_NOTEBOOK=NAME`: the notebook being executed (recorded in provenance).
 *
 * Every function works without --allow-env / outside Deno (then: defaults).
 */

/** An environment variable, or undefined when unset or unreadable (no --allow-env, no Deno). */
export function envVar(name: string): string | undefined {
  try {
    return (globalThis as { Deno?: typeof Deno }).Deno?.env.get(name);
  } catch {
    return undefined;
  }
}

/** The notebook being executed by the runner, if any. */
export function notebookName(): string | undefined {
  return envVar("SVRNN_NOTEBOOK") || undefined;
}

/** The repository root: the nearest folder at or above `from` (default cwd) with deno.json. */
export function repoRoot(from?: string): string {
  const D = (globalThis as { Deno?: typeof Deno }).Deno;
  if (!D) return ".";
  let dir = from ?? D.cwd();
  for (;;) {
    try {
      D.statSync(`${dir}/deno.json`);
      return dir;
    } catch {
      const parent = dir.replace(/\/[^/]*$/, "") || "/";
      if (parent === dir) return from ?? D.cwd();
      dir = parent;
    }
  }
}

/** Where results go: $SVRNN_RESULTS, else `<repo>/results`. */
export function resultsDir(): string {
  return envVar("SVRNN_RESULTS") || `${repoRoot()}/results`;
}

/** The shipped checkpoints' folder, relative to the repository root. */
export const SHIPPED_CHECKPOINTS = "results/checkpoints";

/** The shipped checkpoint of model `name`, relative to the repository root. */
export function shippedCheckpointFile(name: string): string {
  return `${SHIPPED_CHECKPOINTS}/${name}.safetensors`;
}
