/** lib/notebooks/study_views.ts: words and figures derived from a joined study. */
import assert from "node:assert/strict";
import {
  claimRows,
  linearReachRows,
  predictedVerdict,
  predictionScore,
  reachFigure,
  studyGainFigure,
  verdictSentence,
} from "../lib/notebooks/study_views.ts";
import { checkStudyFile, type ClaimResult } from "../lib/records/formats.ts";

function claim(over: Partial<ClaimResult>): ClaimResult {
  return {
    claim: "c",
    prediction: "not resolved: why",
    cell: "L9",
    comparison: "svrnn-small minus cnn-small",
    meanDb: 0.3,
    ci95: [0.1, 0.5],
    perSeed: [
      { seed: 0, meanDb: 0.4, ci95: [0.2, 0.6], wins: 20, n: 33 },
      { seed: 1, meanDb: 0.2, ci95: [0.05, 0.35], wins: 19, n: 33 },
    ],
    verdict: "resolved: A better",
    ...over,
  };
}

Deno.test("study views: predicted verdicts parsed by side name, sentences say which side and whether predicted", () => {
  assert.equal(predictedVerdict(claim({})), "not resolved");
  assert.equal(
    predictedVerdict(claim({ prediction: "resolved: svrnn-small better, by a lot" })),
    "resolved: A better",
  );
  assert.equal(
    predictedVerdict(claim({ prediction: "resolved: cnn-small better" })),
    "resolved: B better",
  );
  assert.equal(predictedVerdict(claim({ prediction: "something vague" })), null);

  const a = verdictSentence(claim({}));
  assert.match(a, /svrnn-small is better, by \+0\.30 dB/);
  assert.match(a, /against the prediction \(not resolved\)/);
  const b = verdictSentence(
    claim({ meanDb: -0.3, ci95: [-0.5, -0.1], verdict: "resolved: B better" }),
  );
  assert.match(b, /cnn-small is better, by \+0\.30 dB \(95% interval \+0\.10 to \+0\.50\)/);
  const n = verdictSentence(claim({ verdict: "not resolved" }));
  assert.match(n, /^L9: not resolved: .* as predicted\.$/);
  assert.throws(() => verdictSentence(claim({ comparison: "A vs B" })), /not "A minus B"/);

  const rows = claimRows([claim({}), claim({ verdict: "not resolved" })]);
  assert.deepEqual(rows.map((r) => r["as predicted"]), ["no", "yes"]);
  assert.equal(
    predictionScore([claim({}), claim({ verdict: "not resolved" })]),
    "1 of 2 claims came out as predicted",
  );
});

Deno.test("study views: every committed study states a verdict in each prediction, and its figure has a bar per cell and variant", async () => {
  let seen = 0;
  for await (const e of Deno.readDir("results/studies")) {
    if (!e.name.endsWith(".json")) continue;
    const file = `results/studies/${e.name}`;
    const s = checkStudyFile(JSON.parse(await Deno.readTextFile(file)), file);
    for (const c of s.claims) assert.notEqual(predictedVerdict(c), null, `${file}: ${c.claim}`);
    const fig = studyGainFigure(s);
    const variants = new Set(s.gains.map((g) => g.variant));
    const cells = new Set(s.gains.map((g) => g.cell));
    assert.equal(fig.data.length, variants.size);
    for (const t of fig.data) assert.equal((t.x as unknown[]).length, cells.size);
    seen++;
  }
  assert.ok(seen >= 1, "no joined study in results/studies");
});

Deno.test("reachFigure: the filter's gain by width, the CNN's edge, each trained variant", () => {
  const linear = {
    rows: [
      { cell: "L97", length: 97, taps: 33, meanGainDb: -0.3, improved: 5, images: 10 },
      { cell: "L97", length: 97, taps: 129, meanGainDb: 1.9, improved: 9, images: 10 },
      { cell: "L9", length: 9, taps: 33, meanGainDb: 3, improved: 10, images: 10 },
    ],
  };
  const gains = [
    { cell: "L97", variant: "svrnn-small", gainDb: 2.5, perSeed: [2.4, 2.6], params: 1 },
    { cell: "L97", variant: "cnn-small", gainDb: 0.1, perSeed: [0, 0.2], params: 1 },
  ];
  const fig = reachFigure(linear, "L97", 69, { gains });
  assert.deepEqual(fig.data[0].x, [33, 129]);
  assert.deepEqual(fig.data[0].y, [-0.3, 1.9]);
  assert.deepEqual(fig.data[1].x, [69, 69]);
  // the CNN's edge spans every value shown, the trained gains included
  const [lo, hi] = fig.data[1].y as number[];
  assert.ok(lo < -0.3 && hi > 2.5);
  assert.deepEqual(fig.data.slice(2).map((t) => t.y), [[2.5, 2.5], [0.1, 0.1]]);
  assert.match(String(fig.data[2].name), /svrnn-small/);
  assert.equal(reachFigure(linear, "L97", 69).data.length, 2);
  assert.deepEqual(linearReachRows(linear, "L97"), [
    { "filter width (px)": 33, "gain over the input (dB)": "-0.30", "crops improved": "5/10" },
    { "filter width (px)": 129, "gain over the input (dB)": "+1.90", "crops improved": "9/10" },
  ]);
});
