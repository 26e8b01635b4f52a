/**
 * The pairs of a dataset split: the one reader behind every `DataSource` (lib/data/source.ts),
 * used by `deno task train`, `eval`, `ablate` and the notebooks (`datasetPairs`). A source
 * that is not on disk is an InputError naming its folder and the command that makes it.
 * Deno-only (reads folders).
 */
import { BENCHMARKS, prepareBenchmarkCommand } from "./benchmark.ts";
import { controlledPairs, readControlled } from "./controlled_io.ts";
import { InputError } from "./errors.ts";
import { listGoProPairs, type PairRef, type Split } from "./gopro.ts";
import type { DataSource } from "./source.ts";

/** The pairs of a split. A pairs folder has no splits: it is read whole for either. */
export async function listPairs(s: DataSource, split: Split): Promise<PairRef[]> {
  switch (s.kind) {
    case "pairs":
      return await listFolderPairs(s.root);
    case "controlled":
      return controlledPairs(s.root, await readControlled(s.root), split);
    case "gopro":
      return await listGoProPairs(s.root, { split, blur: s.blur });
    case "benchmark":
      try {
        return await listGoProPairs(s.root, { split, blur: s.blur });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        throw new InputError(
          BENCHMARKS[s.name]
            ? `benchmark ${s.name} not found at ${s.root}: prepare it with ` +
              `\`${prepareBenchmarkCommand(s.name)}\``
            : `benchmark ${s.name} not found at ${s.root}, and no such benchmark can be ` +
              `generated (known: ${Object.keys(BENCHMARKS).join(", ")}; deno task data benchmark)`,
        );
      }
  }
}

/** `root/blur/NAME` with `root/sharp/NAME` for every image name present in both. */
export async function listFolderPairs(root: string): Promise<PairRef[]> {
  const names = async (dir: string) => {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && /\.(png|jpe?g)$/i.test(e.name)) out.push(e.name);
      }
    } catch {
      throw new InputError(`${dir}: not a readable folder (a pairs folder has blur/ and sharp/)`);
    }
    return out.sort();
  };
  const blur = await names(`${root}/blur`);
  const sharp = new Set(await names(`${root}/sharp`));
  const missing = blur.filter((n) => !sharp.has(n));
  if (missing.length > 0) {
    throw new InputError(
      `${root}/sharp lacks ${missing.slice(0, 3).join(", ")} (paired with blur/)`,
    );
  }
  if (blur.length === 0) throw new InputError(`${root}/blur has no images`);
  return blur.map((frame) => ({
    blur: `${root}/blur/${frame}`,
    sharp: `${root}/sharp/${frame}`,
    sequence: "",
    frame,
  }));
}
