/** Timing helpers shared by evaluation (speed, evaluate) and the benchmarks. */
import * as tf from "@tensorflow/tfjs";

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
