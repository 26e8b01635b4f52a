/**
 * The gradient of DepthToSpace (pixel shuffle), which tfjs-core 4.22.0 lacks: the Nah et
 * al. baseline upsamples with it. The adjoint of a permutation is its inverse, here
 * space-to-depth, written with reshape and transpose so it runs on every backend.
 */
import * as tf from "@tensorflow/tfjs";

export const depthToSpaceGradConfig: tf.GradConfig = {
  kernelName: tf.DepthToSpace,
  gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const { blockSize, dataFormat } = attrs as unknown as tf.DepthToSpaceAttrs;
    if (dataFormat !== undefined && dataFormat !== "NHWC") {
      throw new Error(`DepthToSpace gradient: only NHWC is supported, got ${dataFormat}`);
    }
    const g = dy as tf.Tensor4D;
    const [n, oh, ow, c] = g.shape;
    const bs = blockSize;
    return {
      x: () =>
        tf.tidy(() =>
          g.reshape([n, oh / bs, bs, ow / bs, bs, c])
            .transpose([0, 1, 3, 2, 4, 5])
            .reshape([n, oh / bs, ow / bs, bs * bs * c])
        ),
    };
  },
};
