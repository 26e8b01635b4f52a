/**
 * The error map a notebook shows beside a before/after pair: where the model brought the
 * image closer to the sharp reference (blue) and where it moved it away (red), and in
 * words whether it sharpened or smoothed (lib/analysis/error_map.ts). A PSNR gain can come
 * from smoothing; this figure tells the two apart.
 */
import type { RgbImage } from "../data/image.ts";
import { errorChangeMap, errorSummary, laplacianEnergy } from "../analysis/error_map.ts";
import { colormapImage } from "../viz/colormap.ts";
import type { LabelledImage } from "../viz/image.ts";

export interface ErrorView {
  /** blurry input, model output, sharp reference, error-change map. */
  images: LabelledImage[];
  /** One sentence with the shares of pixels improved and worsened and the sharpness. */
  sentence: string;
}

/** Builds the four panels and the sentence; the map's colour range is +-`range` (stored units). */
export function errorView(
  input: RgbImage,
  output: RgbImage,
  sharp: RgbImage,
  opts: { model?: string; range?: number } = {},
): ErrorView {
  const change = errorChangeMap(input, output, sharp);
  const r = opts.range ?? 0.05;
  // Plotly's RdBu runs blue (low) to red (high) and the change is positive where the
  // output is closer to the sharp image: drawn negated, closer is blue and further red.
  const map = colormapImage(change.map((v) => -v), sharp.width, sharp.height, {
    scale: "RdBu",
    range: [-r, r],
  });
  const s = errorSummary(input, output, sharp);
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  const model = opts.model ?? "the model";
  return {
    images: [
      { image: input, label: "blurry input" },
      { image: output, label: `${model} output` },
      { image: sharp, label: "sharp reference" },
      { image: map, label: `error change (blue: closer to sharp, red: further; ±${r})` },
    ],
    sentence: `${model} brings ${pct(s.improvedShare)} of the pixels closer to the sharp ` +
      `image and moves ${pct(s.worsenedShare)} further away (by more than 1/255); its fine ` +
      `detail (Laplacian energy) is ${s.outputSharpness.toFixed(2)} of the sharp image's, ` +
      `against ${s.inputSharpness.toFixed(2)} for the input: it ${
        s.verdict === "about as sharp as its input" ? "is " : ""
      }${s.verdict}.`,
  };
}

/**
 * Without a sharp reference, all that can be said of an output's detail is against the
 * input: the ratio of their Laplacian energies, in a sentence ("x1.32: more fine detail").
 * More detail is not proof of deblurring (noise and ringing add it too); less is smoothing.
 */
export function detailSentence(input: RgbImage, output: RgbImage, model = "the model"): string {
  const ratio = laplacianEnergy(output) / laplacianEnergy(input);
  const what = ratio >= 1.1
    ? "more fine detail than its input (steeper transitions, or ringing and noise: check the crops)"
    : ratio <= 0.9
    ? "less fine detail than its input: it smooths this image"
    : "about the fine detail of its input";
  return `${model}'s output has ${
    ratio.toFixed(2)
  } times the Laplacian energy of the input: ${what}.`;
}

/** Which test images to show: the one with the median PSNR gain, and the largest gain. */
export function representativeImages<T extends { psnr: number; inputPsnr: number }>(
  scores: readonly T[],
): { median: T; best: T } {
  if (scores.length === 0) throw new Error("representativeImages: no scores");
  const byGain = [...scores].sort((a, b) => (a.psnr - a.inputPsnr) - (b.psnr - b.inputPsnr));
  return { median: byGain[(byGain.length - 1) >> 1], best: byGain[byGain.length - 1] };
}
