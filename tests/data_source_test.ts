/**
 * A dataset is declared once, as a kind of `DataSource` (lib/data/source.ts): every kind lists
 * its train and test pairs through the one reader `listPairs` (lib/data/source_io.ts); the
 * CLI's data options (`deno task train`, `eval`, `ablate`) give a source of every kind; the
 * notebooks' `datasetPairs` reads the same pairs through it; a missing controlled benchmark is
 * one line naming its folder and the command that makes it; and no other file under lib/
 * reads a dataset's folders itself.
 */
import assert from "node:assert/strict";
import { SYNTH_V1_QUICK } from "#lib/data/benchmark.ts";
import { generateBenchmark } from "#lib/data/benchmark_io.ts";
import { DEFAULT_CONTROLLED } from "#lib/data/controlled.ts";
import { CONTROLLED_ROOT, ensureControlled } from "#lib/data/controlled_io.ts";
import { exists } from "#lib/data/image_io.ts";
import { type DataSource, describeSource, hasSplits } from "#lib/data/source.ts";
import { listPairs } from "#lib/data/source_io.ts";
import { parseCommandLine } from "#lib/cli/common.ts";
import { DATA_OPTIONS, sourceFromArgs } from "#lib/cli/data_args.ts";
import { datasetPairs } from "#lib/notebooks/resources.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SPLITS = ["train", "test"] as const;
type Kind = DataSource["kind"];

/** One source of every kind, on disk in `dir`: the quick benchmark and a tiny controlled one. */
async function sourcesIn(dir: string): Promise<Record<Kind, DataSource>> {
  await generateBenchmark(SYNTH_V1_QUICK, { out: dir, fixturesDir: `${ROOT}data/fixtures` });
  const bench = `${dir}/${SYNTH_V1_QUICK.name}`;
  const spec = { ...DEFAULT_CONTROLLED, name: "t-source", crop: 32, trainPerPhoto: 1 };
  const controlled = await ensureControlled({ ...spec, testPerPhoto: 1 }, {
    root: `${dir}/controlled`,
    fixturesDir: `${ROOT}data/fixtures`,
    preferFixtures: true,
  });
  // a Record over the kinds: a new kind without a source here does not compile
  return {
    benchmark: { kind: "benchmark", name: SYNTH_V1_QUICK.name, root: bench, blur: "blur_gamma" },
    gopro: { kind: "gopro", root: bench, blur: "blur" },
    controlled: { kind: "controlled", name: spec.name, root: controlled.dir },
    pairs: { kind: "pairs", root: `${controlled.dir}/train` },
  };
}

Deno.test("every DataSource kind lists train and test pairs through listPairs, for the CLI and the notebooks alike", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-source-" });
  try {
    const sources = await sourcesIn(dir);
    for (const src of Object.values(sources)) {
      const what = describeSource(src);
      const bySplit: Record<string, string[]> = {};
      for (const split of SPLITS) {
        const refs = await listPairs(src, split);
        assert.ok(refs.length > 0, `${what} ${split}: no pairs`);
        for (const r of refs) {
          assert.ok(await exists(r.blur) && await exists(r.sharp), `${what}: ${r.blur}`);
        }
        // the notebooks read a source through the same function
        assert.deepStrictEqual(await datasetPairs(src, split), refs, `${what} ${split}`);
        assert.deepStrictEqual(await datasetPairs(src, split, 1), refs.slice(0, 1));
        bySplit[split] = refs.map((r) => r.blur);
      }
      const shared = bySplit.train.filter((p) => bySplit.test.includes(p));
      if (hasSplits(src)) assert.deepStrictEqual(shared, [], `${what}: a pair in both splits`);
      else assert.deepStrictEqual(bySplit.test, bySplit.train, `${what}: one set of pairs`);
    }
    // the controlled benchmark's splits are its manifest's
    const m = JSON.parse(await Deno.readTextFile(`${sources.controlled.root}/manifest.json`));
    for (const split of SPLITS) {
      assert.deepStrictEqual(
        (await listPairs(sources.controlled, split)).map((r) => r.frame),
        m.pairs.filter((p: { split: string }) => p.split === split).map((p: { file: string }) =>
          p.file
        ),
      );
    }
    // the notebooks' short form for GoPro is the same source
    const gopro = sources.gopro as Extract<DataSource, { kind: "gopro" }>;
    assert.deepStrictEqual(
      await datasetPairs({ gopro: gopro.root, blur: gopro.blur }, "test"),
      await listPairs(gopro, "test"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the CLI's data options give a source of every kind", () => {
  const spec = { name: "t", summary: "", usage: "", options: DATA_OPTIONS };
  const cases: Record<Kind, [string[], DataSource]> = {
    benchmark: [["--benchmark", "synth-v1-quick", "--blur", "blur"], {
      kind: "benchmark",
      name: "synth-v1-quick",
      root: "data/benchmarks/synth-v1-quick",
      blur: "blur",
    }],
    gopro: [["--gopro", "/g", "--gopro-variant", "blur"], {
      kind: "gopro",
      root: "/g",
      blur: "blur",
    }],
    controlled: [["--controlled", "mix"], {
      kind: "controlled",
      name: "mix",
      root: `${CONTROLLED_ROOT}/mix`,
    }],
    pairs: [["--pairs", "/p"], { kind: "pairs", root: "/p" }],
  };
  for (const [args, want] of Object.values(cases)) {
    assert.deepStrictEqual(sourceFromArgs(parseCommandLine(spec, args)), want, args.join(" "));
  }
  assert.throws(
    () => sourceFromArgs(parseCommandLine(spec, ["--controlled", "mix", "--pairs", "/p"])),
    /give one of --gopro, --controlled and --pairs, not --controlled and --pairs/,
  );
  assert.throws(
    () => sourceFromArgs(parseCommandLine(spec, ["--controlled", "../mix"])),
    /--controlled takes a benchmark name/,
  );
});

Deno.test("a missing controlled benchmark: one line naming its folder and the command that makes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-source-" });
  try {
    const src: DataSource = { kind: "controlled", name: "absent", root: `${dir}/absent` };
    const err = await listPairs(src, "train").then(() => null, (e) => e as Error);
    assert.ok(err, "no error");
    assert.equal(err.name, "InputError");
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, new RegExp(`${dir}/absent .*no manifest\\.json`));
    assert.match(err.message, /`deno task data controlled --name absent`/);
    // the notebooks' short form reads data/controlled/NAME under the repository root
    await assert.rejects(
      datasetPairs({ controlled: "no-such-controlled" }, "test"),
      new RegExp(`${ROOT}${CONTROLLED_ROOT}/no-such-controlled .*--name no-such-controlled`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Files that may read a dataset's folders: the readers themselves. */
const READERS = new Map<string, string>([
  ["lib/data/source_io.ts", "the one reader behind DataSource"],
  ["lib/data/gopro.ts", "defines listGoProPairs"],
  ["lib/data/controlled_io.ts", "defines controlledPairs"],
]);

Deno.test("no file under lib/ but the readers lists a dataset's pairs itself", async () => {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts") && !READERS.has(path)) {
        const text = await Deno.readTextFile(`${ROOT}${path}`);
        if (/\b(listGoProPairs|listFolderPairs|controlledPairs)\(/.test(text)) found.push(path);
      }
    }
  };
  await walk("lib");
  assert.deepStrictEqual(found, [], "list pairs with listPairs (lib/data/source_io.ts) instead");
});
