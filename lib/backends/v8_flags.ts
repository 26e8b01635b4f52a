/**
 * The V8 flags the kit's commands run under. deno.json's tasks set DENO_V8_FLAGS to this
 * value, so every process they start (study workers, `deno test`, the Jupyter kernel that
 * `deno task reproduce` and `deno task lab` launch) inherits it; the kernelspec written by
 * lib/notebooks/jupyter.ts sets it for a Jupyter started by hand, and bench/gpu.sh for the
 * GPU run. A flag is fixed when V8 starts: node:v8's setFlagsFromString at import time did
 * not change the timings below, so it has to come from outside the process.
 *
 * --no-maglev: the native backend's element-wise kernels (lib/backends/native/js_kernels.ts,
 * the activation gradient of lib/ops/fused_conv.ts) are long typed-array loops. After a
 * deoptimisation some of them stayed in V8's mid tier, Maglev, which runs such a loop about
 * 13 times slower than TurboFan (0.9 against 12-14 ns an element, measured on the leaky-ReLU
 * gradient inside training steps), so a step slowed down after its first ten or so
 * iterations and stayed slow. Without Maglev, code goes from the baseline tier straight to
 * TurboFan. Steady-state steps on the 2-core AMD EPYC (steps 20-60 of one process, median,
 * alternating processes): svrnn-small at batch 8 of 64x64 on one thread 194-204 -> 133-140
 * ms; svrnn at batch 4 of 64x64 on two threads 564-695 -> 380-390 ms. `deno task bench
 * --only v8_flags` measures it again (lib/bench/v8_flags.ts).
 */
export const KIT_V8_FLAGS = "--no-maglev";

/** The V8 flags this process was started with, as far as it can tell (DENO_V8_FLAGS). */
export function v8FlagsInEffect(): string {
  try {
    return Deno.env.get("DENO_V8_FLAGS") ?? "";
  } catch {
    return "";
  }
}
