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

/** True in quick mode (SVRNN_QUICK set to 1, true or yes): seconds per experiment, fixtures only. */
export function isQuick(): boolean {
  return /^(1|true|yes)$/i.test(envVar("SVRNN_QUICK") ?? "");
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

/**
 * The subfolder of the shipped checkpoints' folder holding the ablation variants' released
 * weights (`deno task ablate --release`): notebook 02 measures their receptive fields on a
 * fresh clone, where no ablation has run.
 */
export const ABLATION_CHECKPOINTS = "ablations";

/** The shipped checkpoint of model `name`, relative to the repository root. */
export function shippedCheckpointFile(name: string): string {
  return `${SHIPPED_CHECKPOINTS}/${name}.safetensors`;
}

/** A released checkpoint: the file, the registered architecture, and what it is for. */
export interface ShippedModel {
  file: string;
  model: string;
  /** What it was trained on, and what it does on that regime (measured, see its eval JSON). */
  purpose: string;
}

/**
 * The released checkpoints, each with an honest line on what it does: the GoPro-like
 * models lower the error mostly by smoothing at the budget a CPU gives (README, Results);
 * the controlled model is trained on the controlled mix, and only its curriculum's narrow
 * stages deblur what they were trained on (docs/studies.md).
 */
export const SHIPPED_MODELS: readonly ShippedModel[] = [
  {
    file: shippedCheckpointFile("svrnn-small"),
    model: "svrnn-small",
    purpose: "synthetic GoPro-like blur (synth-v2); it lowers the error there mostly by " +
      "smoothing, and rarely helps on other photos and blur (results/eval/svrnn-small.json)",
  },
  {
    file: shippedCheckpointFile("nah-small"),
    model: "nah-small",
    purpose: "the same data and budget as svrnn-small, Nah et al.'s architecture: the comparison",
  },
  {
    file: shippedCheckpointFile("svrnn-small-controlled"),
    model: "svrnn-small",
    purpose: "the controlled mix (box, exponential and shake kernels of 3-33 px at any angle, " +
      "every layout), blind, after a four-stage curriculum; at this budget it is level with its " +
      "input there (results/eval/svrnn-small-controlled.json)",
  },
  {
    file: shippedCheckpointFile("svrnn-small-controlled.stage2"),
    model: "svrnn-small",
    purpose: "stage 2 of that curriculum: a 9-px box blur at any angle, which it deblurs " +
      "(results/eval/svrnn-small-controlled.stage2.json)",
  },
];
