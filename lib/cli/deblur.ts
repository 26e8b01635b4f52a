/**
 * `deno task deblur IN OUT`: deblurs one image or every image of a folder with the
 * shipped svrnn-small (or --model / --checkpoint), tiling large images.
 */
import { type CommandSpec, type Context, InputError, runCommand } from "./common.ts";
import { SHIPPED_MODELS } from "../records/paths.ts";
import { describeBackend } from "../backends/select.ts";
import { exists, isDir, readImage, writeImage } from "../data/image_io.ts";
import { clampImage } from "../data/image.ts";
import { predictTiled } from "../eval/tiled.ts";
import { peakRssBytes } from "../eval/evaluate.ts";
import { provenance } from "../records/provenance.ts";
import { MODEL_OPTIONS, modelFromArgs, tileFromArgs } from "./model_args.ts";

export const DEBLUR_SPEC: CommandSpec = {
  name: "deblur",
  summary: "Deblur an image (PNG or JPEG) or every image in a folder.",
  usage: "IN OUT",
  positionals: { min: 2, max: 2 },
  options: MODEL_OPTIONS,
  details: `IN and OUT are both files or both folders; the output format follows OUT's extension
(.png or .jpg) for a file, and is PNG for a folder. Without --model or --checkpoint the
shipped results/checkpoints/svrnn-small.safetensors is used.
shipped models (--checkpoint FILE):
${shippedList()}
examples:
  deno task deblur data/fixtures/clock_motion.png sharp.png
  deno task deblur photos/ deblurred/ --tile 512`,
};

function shippedList(): string {
  const there = (f: string) => {
    try {
      return Deno.statSync(f).isFile;
    } catch {
      return false;
    }
  };
  return SHIPPED_MODELS.map((m) =>
    `  ${m.file}${there(m.file) ? "" : " (not released yet)"}\n    ${m.model}, ${m.purpose}`
  ).join("\n");
}

const IMAGE = /\.(png|jpe?g)$/i;

async function jobs(input: string, output: string): Promise<[string, string][]> {
  if (!(await exists(input))) {
    throw new InputError(`input not found: ${input}`);
  }
  if (!(await isDir(input))) {
    if (!IMAGE.test(output)) {
      throw new InputError(`output must end in .png, .jpg or .jpeg: ${output}`);
    }
    return [[input, output]];
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(input)) if (e.isFile && IMAGE.test(e.name)) names.push(e.name);
  if (names.length === 0) throw new InputError(`${input} has no PNG or JPEG images`);
  await Deno.mkdir(output, { recursive: true });
  return names.sort().map((n) => [`${input}/${n}`, `${output}/${n.replace(IMAGE, ".png")}`]);
}

async function main(ctx: Context) {
  const [input, output] = ctx.positionals;
  const list = await jobs(input, output);
  const { model, weights, backend, ensemble } = await modelFromArgs(ctx);
  ctx.progress(`${model.name} (${weights}) on ${describeBackend(backend)}`);
  const done = [];
  for (const [src, dst] of list) {
    const img = await readImage(src);
    const tile = tileFromArgs(ctx, img.width * img.height);
    const t0 = performance.now();
    const out = await predictTiled(model, img, tile, (k, n) => {
      if (n > 1) ctx.progress(`${src}: tile ${k}/${n}`);
    });
    const ms = performance.now() - t0;
    await writeImage(dst, clampImage(out, true));
    ctx.progress(`${src} -> ${dst} (${img.width}x${img.height}, ${(ms / 1000).toFixed(1)} s)`);
    done.push({
      input: src,
      output: dst,
      width: img.width,
      height: img.height,
      ms,
      tile: tile.tile,
    });
  }
  model.dispose();
  ctx.out(`deblurred ${done.length} image${done.length === 1 ? "" : "s"}`);
  return {
    model: model.name,
    weights,
    ensemble,
    backend: describeBackend(backend),
    images: done,
    peakRssBytes: peakRssBytes(),
    provenance: await provenance(`deno task deblur ${Deno.args.join(" ")}`),
  };
}

if (import.meta.main) runCommand(DEBLUR_SPEC, main);
