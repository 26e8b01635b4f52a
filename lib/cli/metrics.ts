/**
 * `deno task metrics A B [--crop N] [--json]`: PSNR and SSIM of two images (PNG or JPEG).
 * Conventions: lib/eval/metrics.ts (scikit-image's, data range 1, SSIM mean over RGB).
 */
import { readImage } from "../data/image_io.ts";
import { psnr, ssim } from "../eval/metrics.ts";
import { type CommandSpec, InputError, runCommand } from "./common.ts";

export const spec: CommandSpec = {
  name: "metrics",
  summary: "PSNR (dB, data range 1) and SSIM (Gaussian 11x11, sigma 1.5, mean over RGB) of two " +
    "images of the same size.",
  usage: "A B",
  positionals: { min: 2, max: 2 },
  options: {
    crop: {
      type: "string",
      valueName: "N",
      default: "0",
      description: "ignore N pixels at every border of both images",
    },
  },
  details: "Conventions match scikit-image: peak_signal_noise_ratio(data_range=1) and " +
    "structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, " +
    "data_range=1, channel_axis=-1). Identical images: PSNR inf (null in --json), SSIM 1.",
};

if (import.meta.main) {
  runCommand(spec, async (ctx) => {
    const [pa, pb] = ctx.positionals;
    const crop = ctx.int("crop", 0, 0, 100000);
    const a = await readImage(pa);
    const b = await readImage(pb);
    if (a.width !== b.width || a.height !== b.height) {
      throw new InputError(
        `images differ in size: ${pa} is ${a.width}x${a.height}, ${pb} is ${b.width}x${b.height}`,
      );
    }
    const p = psnr(a, b, { crop });
    const s = ssim(a, b, { crop });
    ctx.out(`PSNR ${Number.isFinite(p) ? p.toFixed(4) : "inf"} dB  SSIM ${s.toFixed(6)}`);
    return {
      a: pa,
      b: pb,
      width: a.width,
      height: a.height,
      crop,
      psnr: p,
      ssim: s,
      identical: p === Infinity,
    };
  });
}
