/** Timing helpers shared by the benchmarks. */
import * as tf from "@tensorflow/tfjs";

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Waits until the backend has finished queued work, so a wall-clock measurement covers
 * the computation and not just its submission (WebGPU runs asynchronously; cpu and wasm
 * kernels have already finished when they return).
 */
export async function syncBackend(): Promise<void> {
  if (tf.getBackend() !== "webgpu") return;
  const b = tf.backend() as unknown as {
    submitQueue(): void;
    device: GPUDevice;
  };
  b.submitQueue();
  await b.device.queue.onSubmittedWorkDone();
}
