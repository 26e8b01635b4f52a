/**
 * lib/eval/reported.ts: the one table of numbers quoted from papers. Every row is labelled
 * reported, names its source and GoPro variant, and carries exactly the figures of
 * docs/paper.md#reported-results.
 */
import assert from "node:assert/strict";
import { REPORTED, reportedFor, reportedResults, reportedTableRows } from "../lib/eval/reported.ts";

Deno.test("reported: every row is labelled reported, with a source and a GoPro variant", () => {
  assert.ok(REPORTED.length >= 9);
  assert.ok(Object.isFrozen(REPORTED));
  for (const r of REPORTED) {
    assert.equal(r.kind, "reported", r.method);
    assert.match(r.source, /docs\/paper\.md#reported-results/, r.method);
    assert.match(r.dataset, /GoPro test \(1111 pairs, 1280x720\)/);
    assert.ok(["blur", "blur_gamma", "not recorded"].includes(r.goproVariant), r.method);
    assert.ok(r.psnr > 25 && r.psnr < 40, r.method);
  }
  const methods = REPORTED.map((r) => r.method);
  assert.equal(new Set(methods).size, methods.length, "methods are unique");
});

Deno.test("reported: SVRNN and Nah et al. as in the papers", () => {
  const sv = reportedFor("SVRNN")!;
  assert.deepEqual(
    [sv.psnr, sv.ssim, sv.secondsPerImage, sv.sizeMB, sv.goproVariant, sv.kitModel],
    [29.19, 0.9306, 1.4, 37.1, "blur", "svrnn"],
  );
  assert.match(sv.timeNote!, /2018 GPU/);
  assert.match(sv.trainingBudget!, /200,000 iterations x batch 20 x 128x128/);
  const nahSv = reportedFor("Nah et al. 2017, as SVRNN")!;
  assert.deepEqual(
    [nahSv.psnr, nahSv.ssim, nahSv.secondsPerImage, nahSv.sizeMB, nahSv.goproVariant],
    [28.49, 0.9165, 3.1, 303.6, "blur"],
  );
  assert.equal(nahSv.sizeNote, "checkpoint file");
  const nahOwn = reportedFor("Nah et al. 2017, own")!;
  assert.deepEqual([nahOwn.psnr, nahOwn.ssim, nahOwn.goproVariant], [29.08, 0.9135, "blur_gamma"]);
  assert.equal(nahOwn.secondsPerImage, null);
  assert.deepEqual(
    reportedResults({ primaryOnly: true }).map((r) => r.method),
    [sv.method, nahSv.method, nahOwn.method],
  );
  assert.equal(reportedFor("no such method"), undefined);
});

Deno.test("reported: later methods for context, PSNR only, variant not recorded", () => {
  const later = reportedResults().filter((r) => !r.primary);
  const psnr = Object.fromEntries(later.map((r) => [r.method.split(" ")[0], r.psnr]));
  assert.deepEqual(psnr, {
    SRN: 30.26,
    DMPHN: 30.21,
    MPRNet: 32.66,
    "MIMO-UNet++": 32.68,
    Restormer: 32.92,
    NAFNet: 33.69,
  });
  for (const r of later) {
    assert.equal(r.goproVariant, "not recorded");
    assert.equal(r.ssim, null);
    assert.equal(r.sizeMB, null);
  }
});

Deno.test("reported: table rows say reported, the variant and the source", () => {
  const rows = reportedTableRows();
  assert.equal(rows.length, REPORTED.length);
  for (const [i, row] of rows.entries()) {
    assert.equal(row.kind, "reported");
    assert.equal(row.method, REPORTED[i].method);
    assert.equal(row.PSNR, REPORTED[i].psnr);
    assert.equal(row.source, REPORTED[i].source);
  }
  assert.match(rows[0].data, /, blur$/);
  assert.match(rows[2].data, /, blur_gamma$/);
  assert.match(rows[3].data, /variant not recorded/);
  assert.equal(reportedTableRows({ primaryOnly: true }).length, 3);
});
