/**
 * Helpers between the kit's RgbImage / patch batches and tfjs tensors (NHWC float32, RGB in
 * [0, 1], the conventions of docs/data.md#image-value-conventions). Kept apart from
 * lib/data/image.ts so that tools which never touch a tensor do not load tfjs.
 * Browser-compatible.
 */
import * as tf from "@tensorflow/tfjs";
import { InputError } from "./errors.ts";
import type { RgbImage } from "./image.ts";
import type { PatchBatch } from "./sampler.ts";

/** [1, H, W, 3] tensor of one image. */
export function imageToTensor(img: RgbImage): tf.Tensor4D {
  return tf.tensor4d(img.data, [1, img.height, img.width, 3], "float32");
}

/** [N, H, W, 3] tensor of same-size images. */
export function imagesToTensor(imgs: readonly RgbImage[]): tf.Tensor4D {
  if (imgs.length === 0) throw new InputError("imagesToTensor: no images");
  const { width: W, height: H } = imgs[0];
  const data = new Float32Array(imgs.length * W * H * 3);
  imgs.forEach((im, i) => {
    if (im.width !== W || im.height !== H) {
      throw new InputError(`imagesToTensor: image ${i} is ${im.width}x${im.height}, not ${W}x${H}`);
    }
    data.set(im.data, i * W * H * 3);
  });
  return tf.tensor4d(data, [imgs.length, H, W, 3], "float32");
}

/** Images of an [N, H, W, 3] tensor (synchronous download; values are not clipped). */
export function tensorToImages(t: tf.Tensor4D): RgbImage[] {
  const [n, h, w, c] = t.shape;
  if (c !== 3) throw new InputError(`tensorToImages: expected 3 channels, got ${c}`);
  const data = t.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => ({
    width: w,
    height: h,
    data: Float32Array.from(data.subarray(i * h * w * 3, (i + 1) * h * w * 3)),
  }));
}

/** The first image of an [N, H, W, 3] tensor. */
export function tensorToImage(t: tf.Tensor4D): RgbImage {
  return tensorToImages(t.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D)[0];
}

/** A patch batch as two [N, P, P, 3] tensors. */
export function batchToTensors(batch: PatchBatch): { blur: tf.Tensor4D; sharp: tf.Tensor4D } {
  return {
    blur: tf.tensor4d(batch.blur, batch.shape, "float32"),
    sharp: tf.tensor4d(batch.sharp, batch.shape, "float32"),
  };
}
