/**
 * `deno task blur SHARP OUT [--seed N] [--mode dynamic|camera|uniform] [--json]`: synthesise
 * a blurred image from a sharp one (lib/data/blur.ts). Writes OUT; in dynamic mode also the
 * sharp target (the middle frame, which contains the moving objects) to --sharp-out
 * (default OUT's name + "_sharp"); in uniform mode the kernel to --kernel-out (default
 * OUT's name + "_kernel", as .png scaled to its maximum for viewing, and .json with the exact
 * values).
 */
import {
  type AverageSpace,
  BLUR_MODES,
  type BlurMode,
  SHARP_TARGETS,
  type SharpTarget,
  synthesizeBlur,
} from "../data/blur.ts";
import { formatFromName } from "../data/codec.ts";
import type { RgbImage } from "../data/image.ts";
import { ensureParent, readImage, writeImage } from "../data/image_io.ts";
import { type CommandSpec, runCommand, UsageError } from "./common.ts";

export const spec: CommandSpec = {
  name: "blur",
  summary: "Render a GoPro-style blurred image from a sharp photo: frames under a random camera " +
    "trajectory and moving objects, averaged in linear light (or a uniform shake kernel).",
  usage: "SHARP OUT",
  positionals: { min: 2, max: 2 },
  options: {
    seed: { type: "string", valueName: "N", default: "0", description: "random seed" },
    mode: {
      type: "string",
      valueName: "MODE",
      default: "dynamic",
      description:
        "dynamic (camera + moving objects), camera (camera only) or uniform (one kernel)",
    },
    frames: {
      type: "string",
      valueName: "N",
      description: "frames averaged, odd 3..63 (default: 7, 9, 11 or 13 picked by the seed)",
    },
    average: {
      type: "string",
      valueName: "SPACE",
      description: "linear (gamma 2.2, GoPro blur_gamma; default) or stored (GoPro blur); " +
        "uniform mode defaults to stored",
    },
    target: {
      type: "string",
      valueName: "POSE",
      default: "middle",
      description: "sharp target: middle (the middle frame, GoPro) or centroid (the mean pose, " +
        "which the blur is centred on; synth-v2); dynamic and camera modes",
    },
    strength: {
      type: "string",
      valueName: "X",
      default: "1",
      description: "multiplies every motion magnitude",
    },
    objects: {
      type: "string",
      valueName: "N",
      description: "moving objects (dynamic; default 1-3)",
    },
    noise: {
      type: "string",
      valueName: "SIGMA",
      default: "0",
      description: "Gaussian noise added after averaging",
    },
    "sharp-out": {
      type: "string",
      valueName: "PATH",
      description: "where to write the sharp target",
    },
    "kernel-out": {
      type: "string",
      valueName: "PATH",
      description:
        "uniform mode: kernel image path (.png; a .json with exact values is written beside it)",
    },
  },
  details: "Same seed, same output. The sharp target is the middle frame: identical to SHARP in " +
    "camera and uniform modes; in dynamic mode it contains the pasted moving objects, so it is " +
    "written too.",
};

function stem(path: string): string {
  return path.replace(/\.[A-Za-z0-9]+$/, "");
}

if (import.meta.main) {
  runCommand(spec, async (ctx) => {
    const [input, output] = ctx.positionals;
    if (!formatFromName(output)) {
      throw new UsageError(
        `cannot write ${output}: unsupported extension (use .png, .jpg or .jpeg)`,
      );
    }
    const seedStr = ctx.str("seed") ?? "0";
    const seed = /^[+-]?\d+$/.test(seedStr) ? Number(seedStr) : seedStr;
    const mode = ctx.choice<BlurMode>("mode", BLUR_MODES, "dynamic");
    const frames = ctx.int("frames", undefined, 3, 63);
    if (frames !== undefined && frames % 2 === 0) {
      throw new UsageError(
        `--frames must be odd (a middle frame is the sharp target), got ${frames}`,
      );
    }
    const averageOpt = ctx.str("average");
    const average = averageOpt === undefined
      ? undefined
      : ctx.choice<AverageSpace>("average", ["linear", "stored"], "linear");
    const target = ctx.choice<SharpTarget>("target", SHARP_TARGETS, "middle");
    const strength = ctx.num("strength", 1, 0, 100);
    const objects = ctx.int("objects", undefined, 0, 16);
    const noise = ctx.num("noise", 0, 0, 1);
    const sharp = await readImage(input);
    ctx.progress(`blur: ${input} (${sharp.width}x${sharp.height}), mode ${mode}, seed ${seed}`);
    const t0 = performance.now();
    const r = synthesizeBlur(sharp, {
      seed,
      mode,
      frames,
      average,
      strength,
      objects,
      noise,
      target,
    });
    ctx.progress(`blur: rendered in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    await writeImage(output, r.blurred);
    const written: Record<string, string> = { blurred: output };
    let sharpOut = ctx.str("sharp-out");
    const sharpDiffers = mode === "dynamic" || (mode === "camera" && target === "centroid");
    if (!sharpOut && sharpDiffers) sharpOut = `${stem(output)}_sharp.png`;
    if (sharpOut) {
      await writeImage(sharpOut, r.sharp);
      written.sharp = sharpOut;
    }
    let kernelInfo: Record<string, unknown> | undefined;
    if (r.kernel) {
      const kpath = ctx.str("kernel-out") ?? `${stem(output)}_kernel.png`;
      const k = r.kernel;
      let max = 0, sum = 0;
      for (const v of k.data) {
        max = Math.max(max, v);
        sum += v;
      }
      const view: RgbImage = {
        width: k.size,
        height: k.size,
        data: Float32Array.from(
          { length: k.size * k.size * 3 },
          (_, i) => k.data[(i / 3) | 0] / max,
        ),
      };
      await writeImage(kpath, view);
      const jpath = `${stem(kpath)}.json`;
      await ensureParent(jpath);
      await Deno.writeTextFile(
        jpath,
        JSON.stringify({
          size: k.size,
          layout: "row-major, entry (i,j) weights offset (i-c, j-c)",
          data: Array.from(k.data),
        }) + "\n",
      );
      written.kernel = kpath;
      written.kernelJson = jpath;
      kernelInfo = { size: k.size, sum, max };
    }
    ctx.out(Object.entries(written).map(([k, v]) => `${k}: ${v}`).join("\n"));
    return { input, written, meta: r.meta, kernel: kernelInfo };
  });
}
