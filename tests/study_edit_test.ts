/**
 * Notebook 04's own question: a committed study edited to one cell and two variants
 * (editStudy), and the Markdown and overview rows it is shown with.
 */
import assert from "node:assert/strict";
import { checkStudy, editStudy, studyRuns } from "#lib/study/study.ts";
import { readStudy } from "#lib/study/run.ts";
import { studyOverviewRows, verdictMarkdown } from "#lib/notebooks/study_views.ts";
import { checkStudyFile } from "#lib/records/formats.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("editStudy: one cell, two variants, the edited factor, and whose prediction", async () => {
  const { study: base } = await readStudy(`${ROOT}studies/receptive-field.json`);
  // Unchanged cell and the study's own pair: the committed prediction is kept.
  const same = checkStudy(editStudy(base, { name: "mine", cell: "L17" }), "mine");
  assert.equal(same.cells.length, 1);
  assert.equal(same.cells[0].name, "L17");
  assert.deepEqual(same.variants.map((v) => v.name), ["svrnn-small", "cnn-small"]);
  const committed = base.claims.find((c) => c.cell === "L17")!;
  assert.equal(same.claims[0].prediction, committed.prediction);
  assert.equal(studyRuns(same).length, 2 * base.seeds.length);

  // An edited factor renames the cell (its data differ) and drops the committed prediction.
  const edited = checkStudy(
    editStudy(base, {
      name: "mine2",
      cell: "L9",
      benchmark: { length: 25 },
      budget: { steps: 7 },
      seeds: [3, 4],
    }),
    "mine2",
  );
  assert.equal(edited.cells[0].name, "L9-edited");
  assert.equal(studyRuns(edited)[0].benchmark.length, 25);
  assert.equal(studyRuns(edited)[0].benchmark.angle, "horizontal", "other factors kept");
  assert.equal(edited.budget.steps, 7);
  assert.equal(edited.budget.batchSize, base.budget.batchSize);
  assert.deepEqual(edited.seeds, [3, 4]);
  assert.equal(edited.claims[0].prediction, "(no prediction written)");
  assert.equal(edited.claims[0].cell, "L9-edited");

  // The reader's own prediction and variants.
  const mine = editStudy(base, {
    name: "mine3",
    variants: [{ name: "x", model: "svrnn-small-1block" }, { name: "y", model: "cnn-small" }],
    prediction: "resolved: y better: why not",
  });
  assert.deepEqual([mine.claims[0].a, mine.claims[0].b], ["x", "y"]);
  assert.equal(mine.claims[0].prediction, "resolved: y better: why not");
  assert.throws(() => editStudy(base, { name: "m", cell: "L99" }), /no cell "L99".*L3, L9/);
});

Deno.test("verdictMarkdown and studyOverviewRows: every claim, its prediction, and the score", async () => {
  const file = `${ROOT}results/studies/receptive-field.json`;
  const s = checkStudyFile(JSON.parse(await Deno.readTextFile(file)), file);
  const md = verdictMarkdown(s);
  for (const c of s.claims) {
    assert.ok(md.includes(c.claim), `claim "${c.claim}" listed`);
    assert.ok(md.includes(c.prediction), "its prediction beside it");
  }
  assert.match(md, /\d+ of 4 claims came out as predicted\.$/);
  const [row] = studyOverviewRows([s]);
  assert.equal(row.study, "receptive-field");
  assert.equal(row.runs, s.runs.length);
  assert.equal(row.cells, 4);
  assert.equal(row["as predicted"], md.match(/(\d+ of 4) claims/)![1]);
  const lo = Math.min(...s.runs.map((r) => r.trainMinutes));
  assert.ok(String(row["train minutes per run"]).startsWith(lo.toFixed(1)));
});
