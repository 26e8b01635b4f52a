/**
 * The results formats (lib/records/formats.ts): every committed file under results/ reads
 * through the typed readers (the notebooks' and the checks'), the checks refuse a file
 * that lacks what readers use and say where, and `deno task eval`'s record is built by
 * the one function every writer uses.
 */
import assert from "node:assert/strict";
import {
  checkAblations,
  checkEvalResult,
  checkStudyFile,
  EVAL_METRICS,
  evalResult,
  lossCurve,
  parseTrainingLog,
} from "#lib/records/formats.ts";
import { readAblations, readEvalResult, readTrainingLog } from "#lib/notebooks/resources.ts";
import { repoRoot } from "#lib/records/paths.ts";

const ROOT = repoRoot(new URL(".", import.meta.url).pathname);

/** The files of `dir` (relative to the repository) ending in `ext`, in name order, recursively. */
async function filesIn(dir: string, ext: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string) {
    for await (const e of Deno.readDir(`${ROOT}/${rel}`)) {
      if (e.isDirectory) await walk(`${rel}/${e.name}`);
      else if (e.isFile && e.name.endsWith(ext)) out.push(`${rel}/${e.name}`);
    }
  }
  await walk(dir);
  return out.sort();
}

Deno.test("formats: every committed results/eval/*.json reads as an EvalResult", async () => {
  const files = await filesIn("results/eval", ".json");
  assert.ok(files.length > 0, "no eval files");
  for (const f of files) {
    const name = f.slice("results/eval/".length, -".json".length);
    const read = await readEvalResult(name);
    assert.ok(read, f);
    const e = read.result;
    assert.equal(e.summary.images, e.perImage.length, f);
    assert.ok(Number.isFinite(e.summary.meanPsnr) && e.params > 0, f);
  }
});

Deno.test("formats: every committed ablation-shaped file reads as Ablations", async () => {
  const files = [
    ...(await filesIn("results", ".json")).filter((f) => /^results\/ablations[^/]*\.json$/.test(f)),
    // The sweeps notebook 03 reads with readAblationsIn: the same format.
    ...(await Promise.all(
      ["lr", "patch", "width", "loss"].map((d) => filesIn(`results/${d}`, ".json")),
    )).flat(),
  ];
  assert.ok(files.some((f) => f === "results/ablations.json"), files.join());
  for (const f of files) {
    const a = await readAblations(`${ROOT}/${f}`);
    assert.ok(a && a.variants.length > 0, f);
    for (const v of a.variants) {
      assert.equal(v.perImage.length, v.evalImages ?? v.perImage.length, `${f} ${v.model}`);
      assert.ok(v.loss.length > 0, `${f} ${v.model}`);
    }
  }
});

Deno.test("formats: every committed results/training/*.jsonl reads as training log records", async () => {
  const files = await filesIn("results/training", ".jsonl");
  assert.ok(files.length > 0);
  for (const f of files) {
    const text = await Deno.readTextFile(`${ROOT}/${f}`);
    const records = parseTrainingLog(text, f);
    assert.equal(records.length, text.trim().split("\n").length, `${f}: every line is a record`);
    assert.ok(lossCurve(records).length > 0, f);
  }
  // And through the notebooks' reader, which joins a fine-tuned model's two logs.
  for (const f of files.filter((f) => !f.endsWith(".init.jsonl"))) {
    const name = f.slice("results/training/".length, -".jsonl".length);
    const log = await readTrainingLog(name);
    assert.ok(log && log.records.length > 0, name);
  }
});

Deno.test("formats: every committed results/studies/*.json reads as a StudyFile", async () => {
  const files = (await filesIn("results/studies", ".json")).filter((f) =>
    /^results\/studies\/[^/]+\.json$/.test(f)
  );
  for (const f of files) {
    const s = checkStudyFile(JSON.parse(await Deno.readTextFile(`${ROOT}/${f}`)), f);
    assert.ok(s.runs.length > 0 && s.claims.length > 0, f);
  }
});

Deno.test("formats: the checks name the file, the entry and the field", () => {
  const good = JSON.parse(Deno.readTextFileSync(`${ROOT}/results/eval/svrnn-small.json`));
  assert.throws(
    () => checkEvalResult({ ...good, params: "7" }, "x.json"),
    /^Error: x\.json: "params" must be number, got string$/,
  );
  assert.throws(
    () => checkEvalResult({ ...good, perImage: [{ ...good.perImage[0], ssim: null }] }, "x.json"),
    /x\.json: perImage\[0\]: "ssim" must be number, got null/,
  );
  assert.throws(() => checkEvalResult([], "x.json"), /x\.json: expected an object, got array/);
  assert.throws(() => checkAblations({}, "a.json"), /a\.json: no "variants" list/);
  assert.throws(
    () => checkAblations({ variants: [{ model: "m" }] }, "a.json"),
    /a\.json: variants\[0\]: "params" must be number, got undefined/,
  );
  const line = JSON.stringify({ step: 1, kind: "train", loss: 2 });
  assert.throws(
    () => parseTrainingLog(`${line}\n{"step": 2, "kind": "eval"}\n`, "l.jsonl"),
    /l\.jsonl:2: "kind" is "eval"/,
  );
  // A line cut short (a run writing it, or killed mid-line) is skipped, not an error.
  assert.deepEqual(parseTrainingLog(`${line}\n{"step": 2, "ki`, "l.jsonl"), [
    { step: 1, kind: "train", loss: 2 },
  ]);
  assert.throws(() => checkStudyFile({ study: "s" }, "s.json"), /s\.json: "title" must be string/);
});

Deno.test("formats: evalResult writes the fields in the committed files' order", () => {
  const committed = JSON.parse(Deno.readTextFileSync(`${ROOT}/results/eval/nah-small.json`));
  const built = evalResult({ ...committed });
  assert.deepEqual(Object.keys(built), Object.keys(committed));
  assert.equal(JSON.stringify(built), JSON.stringify(committed));
  assert.equal(committed.metrics, EVAL_METRICS);
  // A controlled benchmark's eval keeps its gains by factor between summary and perImage.
  const controlled = JSON.parse(
    Deno.readTextFileSync(`${ROOT}/results/eval/svrnn-small-controlled.json`),
  );
  assert.equal(JSON.stringify(evalResult({ ...controlled })), JSON.stringify(controlled));
  assert.deepEqual(controlled.byFactor.family.map((g: { value: string }) => g.value), [
    "box",
    "exp",
    "shake",
  ]);
  // Defaults: the test split, the whole image at once, no ensemble, no provenance.
  const bare = evalResult({
    ...committed,
    split: undefined,
    tile: undefined,
    ensemble: undefined,
    provenance: undefined,
  });
  assert.deepEqual([bare.split, bare.tile, bare.ensemble], [
    "test",
    { tile: 0, overlap: 0 },
    "none",
  ]);
  assert.equal(JSON.parse(JSON.stringify(bare)).provenance, undefined);
});
