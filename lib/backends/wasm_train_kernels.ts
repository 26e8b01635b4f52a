/**
 * Makes tfjs's wasm backend able to train convolutional networks; registers at import.
 *
 * As shipped, tfjs 4.22.0's wasm backend has no Conv2DBackpropFilter (tf.grad through
 * conv2d throws), a scalar Conv2DBackpropInput at about 2.6 GFLOP/s, a MaxPoolGrad that
 * loses all-negative windows, and a ResizeBilinearGrad that ignores halfPixelCenters (the
 * cpu backend's too, which also mis-shapes non-square images); tfjs-core has no gradient
 * for DepthToSpace. This module replaces or adds those (see lib/backends/wasm_train/).
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { conv2DBackpropFilterWasm } from "./wasm_train/conv2d_backprop_filter.ts";
import { conv2DBackpropInputWasm } from "./wasm_train/conv2d_backprop_input.ts";
import { depthToSpaceGradConfig } from "./wasm_train/depth_to_space_grad.ts";
import { maxPoolGradWasm } from "./wasm_train/max_pool_grad.ts";
import {
  resizeBilinearGradCpu,
  resizeBilinearGradWasm,
} from "./wasm_train/resize_bilinear_grad.ts";

function original(kernelName: string): tf.KernelConfig {
  const config = tf.getKernel(kernelName, "wasm");
  if (config === undefined) throw new Error(`tfjs-backend-wasm has no ${kernelName} kernel`);
  return config;
}

/** Replaces (or adds) a kernel without tfjs's "already registered" warning. */
function install(kernelName: string, kernelFunc: unknown, backendName = "wasm"): void {
  if (tf.getKernel(kernelName, backendName) !== undefined) {
    tf.unregisterKernel(kernelName, backendName);
  }
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as tf.KernelFunc });
}

/** The shipped scalar kernel, kept for benchmarks and as a correctness cross-check. */
export const shippedConv2DBackpropInput: tf.KernelConfig = original(tf.Conv2DBackpropInput);

install(tf.Conv2DBackpropInput, conv2DBackpropInputWasm);
install(tf.Conv2DBackpropFilter, conv2DBackpropFilterWasm);
install(tf.MaxPoolGrad, maxPoolGradWasm);
install(tf.ResizeBilinearGrad, resizeBilinearGradWasm);
install(tf.ResizeBilinearGrad, resizeBilinearGradCpu, "cpu");

// A gradient is backend-independent; leave any that a later tfjs ships alone.
if (tf.getGradient(tf.DepthToSpace) === undefined) tf.registerGradient(depthToSpaceGradConfig);
