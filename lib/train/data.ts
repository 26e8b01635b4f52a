/**
 * Pairs made ready for the trainer and the evaluator: a patch sampler behind the trainer's
 * TrainData (with centre-cropped validation images), and lazily loaded EvalPairs. Which pairs
 * a dataset has is `listPairs` on its `DataSource` (lib/data/source.ts, source_io.ts).
 * Deno-only (reads images).
 */
import * as tf from "@tensorflow/tfjs";
import { loadPair, type PairRef } from "../data/gopro.ts";
import { PatchSampler } from "../data/sampler.ts";
import { cropImage, type RgbImage } from "../data/image.ts";
import { readImage } from "../data/image_io.ts";
import type { TrainData } from "./trainer.ts";
import type { EvalPair } from "../eval/evaluate.ts";

export interface TrainDataOptions {
  train: PairRef[];
  validation: PairRef[];
  batchSize: number;
  patchSize: number;
  seed: number;
  /** Validation images are centre-cropped to at most this side (keeps validation quick). */
  valCrop: number;
}

function centreCrop(img: RgbImage, side: number): RgbImage {
  const w = Math.min(side, img.width), h = Math.min(side, img.height);
  return cropImage(img, (img.width - w) >> 1, (img.height - h) >> 1, w, h);
}

/**
 * TrainData over a patch sampler. Batches are drawn in step order; asking first for step
 * k > 0 (a resumed run) skips the k batches an uninterrupted run drew before it.
 */
export async function makeTrainData(o: TrainDataOptions): Promise<TrainData> {
  const sampler = new PatchSampler({
    pairs: o.train,
    load: loadPair,
    patchSize: o.patchSize,
    batchSize: o.batchSize,
    seed: o.seed,
  });
  let expected = 0;
  const validation = [];
  for (const ref of o.validation) {
    const [blurry, sharp] = await Promise.all([readImage(ref.blur), readImage(ref.sharp)]);
    validation.push({
      name: ref.sequence ? `${ref.sequence}/${ref.frame}` : ref.frame,
      blurry: centreCrop(blurry, o.valCrop),
      sharp: centreCrop(sharp, o.valCrop),
    });
  }
  return {
    validation,
    async batch(step: number) {
      if (expected === 0 && step > 0) sampler.skip(step);
      else if (step !== expected) {
        throw new Error(
          `batches must be drawn in order: asked for step ${step}, next is ${expected}`,
        );
      }
      expected = step + 1;
      const b = await sampler.next();
      return {
        blurry: tf.tensor4d(b.blur, b.shape),
        sharp: tf.tensor4d(b.sharp, b.shape),
      };
    },
  };
}

/** Pairs as lazily loaded EvalPairs (lib/eval/evaluate.ts), named `sequence/frame` or `frame`. */
export function evalPairsOf(refs: PairRef[]): EvalPair[] {
  return refs.map((r) => {
    let loaded: ReturnType<typeof loadPair> | null = null;
    const get = () => (loaded ??= loadPair(r));
    return {
      name: r.sequence ? `${r.sequence}/${r.frame}` : r.frame,
      blurry: async () => (await get()).blur,
      sharp: async () => (await get()).sharp,
    };
  });
}
