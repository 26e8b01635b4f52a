/**
 * A model on the blur it was trained for (notebook 06): the test crops of a controlled
 * benchmark, each deblurred and scored with the factors its blur was drawn with, then
 * summarised and plotted. The crops come from photos no training crop was cut from.
 */
import type { DeblurModel } from "../models/model.ts";
import type { ControlledSpec } from "../data/controlled.ts";
import {
  type ControlledOptions,
  type ControlledPair,
  ensureControlled,
} from "../data/controlled_io.ts";
import { listPairs } from "../data/source_io.ts";
import { loadPair, type PairRef } from "../data/gopro.ts";
import { clampImage } from "../data/image.ts";
import { psnr } from "../eval/metrics.ts";
import { predictTiled } from "../eval/tiled.ts";
import { type Figure, scatterFigure } from "../viz/figure.ts";
import type { Row } from "../viz/table.ts";

/** One test crop: its scores and the factors of its blur. */
export interface RegimeScore {
  name: string;
  psnr: number;
  inputPsnr: number;
  family: string;
  length: number;
  layout: string;
}

/** The test crops of a controlled benchmark (made when missing) and where they came from. */
export async function regimeTestPairs(
  spec: ControlledSpec,
  o: ControlledOptions & { limit?: number } = {},
): Promise<
  { refs: PairRef[]; factors: Map<string, ControlledPair["factors"]>; dir: string; source: string }
> {
  const { dir, manifest } = await ensureControlled(spec, o);
  const refs = await listPairs({ kind: "controlled", name: spec.name, root: dir }, "test");
  const test = manifest.pairs.filter((p) => p.split === "test");
  return {
    refs: o.limit ? refs.slice(0, o.limit) : refs,
    factors: new Map(test.map((p) => [p.file, p.factors])),
    dir,
    source: manifest.source,
  };
}

/** Deblurs every crop (whole, clipped to [0, 1]) and scores it against its sharp image. */
export async function scoreRegime(
  model: DeblurModel,
  refs: PairRef[],
  factors: Map<string, ControlledPair["factors"]>,
): Promise<RegimeScore[]> {
  const out: RegimeScore[] = [];
  for (const ref of refs) {
    const { blur, sharp } = await loadPair(ref);
    const y = clampImage(await predictTiled(model, blur, { tile: 0, overlap: 0 }), true);
    const f = factors.get(ref.frame);
    out.push({
      name: ref.frame,
      psnr: psnr(y, sharp),
      inputPsnr: psnr(blur, sharp),
      family: f?.family ?? "?",
      length: f?.length ?? NaN,
      layout: f?.layout ?? "?",
    });
  }
  return out;
}

/** One summary row: mean PSNR in and out, the gain, and how many crops improved. */
export function regimeRow(model: string, regime: string, scores: RegimeScore[]): Row {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const gains = scores.map((s) => s.psnr - s.inputPsnr);
  return {
    model,
    "trained for, and tested on": regime,
    crops: scores.length,
    "input PSNR": mean(scores.map((s) => s.inputPsnr)),
    "output PSNR": mean(scores.map((s) => s.psnr)),
    "gain (dB)": mean(gains),
    improved: `${gains.filter((g) => g > 0).length} of ${gains.length}`,
  };
}

/** Gain per crop against blur length, one marker colour per kernel family. */
export function regimeGainFigure(scores: RegimeScore[], title: string): Figure {
  const families = [...new Set(scores.map((s) => s.family))];
  return scatterFigure(
    families.map((family) => {
      const g = scores.filter((s) => s.family === family);
      return {
        name: family,
        x: g.map((s) => s.length),
        y: g.map((s) => s.psnr - s.inputPsnr),
        text: g.map((s) => `${s.name}: ${s.family} ${s.length} px, ${s.layout}`),
      };
    }),
    { title, xTitle: "blur length (px)", yTitle: "PSNR gain over the input (dB)" },
  );
}
