/**
 * Notebook 02's helpers: the source excerpt of a lib function (lib/notebooks/source_code.ts),
 * the scan of one impulse (lib/analysis/scan_impulse.ts), and the rows and sentences built
 * from the measurements (lib/notebooks/receptive_field_views.ts), whose wording must follow
 * the numbers: an unbalanced far field is not called symmetric, a weak correlation not a
 * strong one.
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backends/select.ts";
import type { ErfSummary, GateStats, ReceptiveField } from "../lib/analysis/receptive_field.ts";
import {
  backendDifference,
  impulseImage,
  scanImpulseResponses,
} from "../lib/analysis/scan_impulse.ts";
import { codeMarkdown, functionSource, libFunctionSource } from "../lib/notebooks/source_code.ts";
import * as views from "../lib/notebooks/receptive_field_views.ts";

// ---------------------------------------------------------------------------------------
// Source excerpts

const SAMPLE = [
  "import x from './x.ts';",
  "",
  "/**",
  " * Adds.",
  " * { not code }",
  " */",
  "export function add(a: number, b: { c: number }): number {",
  "  if (a) {",
  "    return a + b.c;",
  "  }",
  "  return 0;",
  "}",
  "",
  "// Overloaded.",
  "export function over(a: string): string;",
  "export function over(a: number): number;",
  "export function over(a: unknown): unknown {",
  "  return a;",
  "}",
  "",
  "const twice = (v: number) => {",
  "  return 2 * v;",
  "};",
  "function one() { return 1; }",
  "function addOne() {}",
].join("\n");

Deno.test("functionSource: the declaration with its doc comment, implementations not overloads", () => {
  const add = functionSource(SAMPLE, "add", "lib/x.ts");
  assert.equal(add.startLine, 3);
  assert.equal(add.endLine, 12);
  assert.ok(add.text.startsWith("/**\n * Adds."));
  assert.ok(add.text.endsWith("  return 0;\n}"));
  const over = functionSource(SAMPLE, "over");
  assert.equal(over.text, "export function over(a: unknown): unknown {\n  return a;\n}");
  assert.equal(functionSource(SAMPLE, "twice").text.split("\n").length, 3);
  assert.equal(functionSource(SAMPLE, "one").text, "function one() { return 1; }");
  assert.equal(functionSource(SAMPLE, "addOne").text, "function addOne() {}", "add is no prefix");
  assert.throws(
    () => functionSource(SAMPLE, "missing", "lib/x.ts"),
    /no top-level function missing in lib\/x.ts/,
  );
  assert.throws(
    () => functionSource(`${SAMPLE}\nfunction one() {}\n`, "one"),
    /one is declared 2 times/,
  );
  assert.throws(
    () => functionSource("function open() {\n  return 1;\n", "open"),
    /cannot find the end/,
  );
});

Deno.test("libFunctionSource: the gate recursion's reference loop, read from its file, as Markdown", async () => {
  const src = await libFunctionSource("ops/gate_rnn_cpu.ts", "scanForward");
  assert.equal(src.path, "lib/ops/gate_rnn_cpu.ts");
  assert.ok(src.text.startsWith("/** h[t] = (1 - g[t]) x[t] + g[t] h[t-1]"));
  assert.ok(src.text.includes("export function scanForward("));
  assert.ok(src.text.includes("y[j] = (1 - g[j]) * x[j] + g[j] * y[prev + i];"));
  assert.ok(src.text.endsWith("\n}"));
  assert.ok(!src.text.includes("scanBackward"), "only the one function");
  const file = await Deno.readTextFile(new URL("../lib/ops/gate_rnn_cpu.ts", import.meta.url));
  assert.equal(
    file.split("\n").slice(src.startLine - 1, src.endLine).join("\n"),
    src.text,
    "lines as in the file",
  );
  const md = codeMarkdown(src);
  assert.ok(
    md.startsWith(`\`scanForward\` in \`lib/ops/gate_rnn_cpu.ts\`, lines ${src.startLine}-`),
  );
  assert.ok(md.includes("\n```ts\n/** h[t]") && md.endsWith("\n}\n```"));
  // A fence longer than any backtick run in the code.
  const ticks = codeMarkdown({
    name: "f",
    path: "",
    startLine: 1,
    endLine: 1,
    text: "const s = `a```;",
  });
  assert.ok(ticks.includes("\n````ts\n") && ticks.endsWith("\n````"));
});

// ---------------------------------------------------------------------------------------
// The scan of one impulse

Deno.test("scanImpulseResponses: (1-g) g^n downstream, zero upstream and off the line, same as the op", async () => {
  const r = scanImpulseResponses({ side: 7, gate: 0.5 });
  assert.deepEqual(r.map((x) => x.direction), [
    "left-right",
    "right-left",
    "top-bottom",
    "bottom-top",
  ]);
  const lr = r[0], rl = r[1], tb = r[2], bt = r[3];
  assert.deepEqual(lr.row, [0, 0, 0, 0.5, 0.25, 0.125, 0.0625]);
  assert.deepEqual(rl.row, [0.0625, 0.125, 0.25, 0.5, 0, 0, 0]);
  assert.deepEqual(tb.col, [0, 0, 0, 0.5, 0.25, 0.125, 0.0625]);
  assert.deepEqual(bt.col, [0.0625, 0.125, 0.25, 0.5, 0, 0, 0]);
  assert.deepEqual(lr.col, [0, 0, 0, 0.5, 0, 0, 0], "a horizontal scan leaves the column alone");
  assert.deepEqual(tb.row, [0, 0, 0, 0.5, 0, 0, 0]);
  assert.equal(
    lr.data.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0),
    4,
    "only the impulse's row, downstream",
  );
  assert.equal(impulseImage(5).indexOf(1), 12);
  assert.throws(() => scanImpulseResponses({ gate: 1 }), /gate must be in/);

  const rows = views.scanImpulseRows(r);
  assert.equal(rows.length, 8);
  assert.deepEqual(Object.keys(rows[0]), [
    "direction",
    "along",
    "-3",
    "-2",
    "-1",
    "±0",
    "+1",
    "+2",
    "+3",
  ]);
  assert.deepEqual(rows[0], {
    direction: "left-right",
    along: "row (x)",
    "-3": 0,
    "-2": 0,
    "-1": 0,
    "±0": 0.5,
    "+1": 0.25,
    "+2": 0.125,
    "+3": 0.0625,
  });
  const sentence = views.scanImpulseSentence(r, 0);
  assert.match(sentence, /0\.50, 0\.250, 0\.125/);
  assert.match(sentence, /exactly 0 upstream/);
  assert.match(sentence, /exactly 0 off the impulse's row/);
  assert.match(sentence, /gives exactly the same values/);
  assert.match(views.scanImpulseSentence(r, 2e-7), /to within 2\.0e-7/);
  // A tampered response is reported, not described as the recursion.
  const bad = r.map((x) => ({ ...x, row: [...x.row], data: x.data.slice() }));
  bad[0].row[1] = 0.1;
  assert.match(views.scanImpulseSentence(bad), /not zero upstream/);

  await initBackend("cpu");
  assert.equal(backendDifference(r), 0, "the cpu kernel is scanForward");
  await initBackend("wasm");
  assert.ok(backendDifference(r) < 1e-6, "the wasm kernel computes the same");
});

// ---------------------------------------------------------------------------------------
// Decay of the open-gate ERFs

/** A row-only ERF: value f(dx) at offset dx from the centre of a 1 x n map. */
function rowErf(n: number, f: (dx: number) => number): ReceptiveField {
  const c = n >> 1;
  return {
    width: n,
    height: 1,
    at: { x: c, y: 0 },
    data: Float32Array.from({ length: n }, (_, i) => f(i - c)),
  } as ReceptiveField;
}

Deno.test("decayOf, decayRows, decaySentence: geometric decay per gate step, exact zeros, wording", () => {
  const items = [
    { label: "one", erf: rowErf(129, (d) => 0.9 ** (Math.abs(d) / 2)) },
    { label: "four", erf: rowErf(129, (d) => 0.96 ** (Math.abs(d) / 2)) },
    { label: "causal", erf: rowErf(129, (d) => (d > 26 ? 0 : 0.9 ** (Math.abs(d) / 2))) },
    { label: "cnn", erf: rowErf(129, (d) => (Math.abs(d) >= 35 ? 0 : 0.4 ** (Math.abs(d) / 2))) },
  ];
  const d = views.decayOf(items, { from: 16 });
  assert.ok(Math.abs(d[0].left.factor - 0.9) < 1e-4 && Math.abs(d[0].right.factor - 0.9) < 1e-4);
  assert.equal(d[0].left.zeroFrom, null);
  assert.equal(d[2].right.zeroFrom, 27);
  assert.ok(Number.isNaN(d[2].right.factor), "mostly zero: the profile has ended");
  assert.equal(d[3].left.zeroFrom, 35);
  const rows = views.decayRows(d);
  assert.equal(rows[2]["decay per 2 px, right"], "ends");
  assert.equal(rows[0]["exactly 0 from (px), left"], "never");
  const s = views.decaySentence(d, {
    oneBlock: "one",
    fourBlocks: "four",
    oneDir: "causal",
    cnn: "cnn",
  }, 0.9);
  assert.match(s, /one falls by 0\.90 per two input pixels .*the open gate's 0\.9: geometric/);
  assert.match(s, /four falls more slowly \(0\.96 per two pixels\)/);
  assert.match(s, /CNN control is exactly 0 from 35 and 35 px on/);
  assert.match(s, /causal is exactly 0 from 27 px on the right and never on the left/);
  // Faster than the gate: no claim that it matches.
  const fast = views.decayOf([
    { label: "one", erf: rowErf(129, (d) => 0.5 ** Math.abs(d)) },
    ...items.slice(1),
  ], {
    from: 16,
  });
  const s2 = views.decaySentence(fast, {
    oneBlock: "one",
    fourBlocks: "four",
    oneDir: "causal",
    cnn: "cnn",
  }, 0.9);
  assert.ok(!s2.includes("geometric"), s2);
});

// ---------------------------------------------------------------------------------------
// Gate maps

const stats = (o: Partial<GateStats>): GateStats =>
  ({
    meanAbs: 0.4,
    medianAbs: 0.35,
    p90Abs: 0.8,
    fracAbove09: 0.05,
    fracNegative: 0.6,
    medianMemory: 1,
    p90Memory: 5,
    ...o,
  }) as GateStats;

Deno.test("gateRows, gateHistogram, gateSentence: correlations in words that match their size", () => {
  const maps: views.GateRowInput[] = [
    {
      block: 1,
      direction: "left-right",
      stats: stats({ medianMemory: 0.72 }),
      corrEdges: 0.3,
      corrBrightness: 0.9,
    },
    {
      block: 4,
      direction: "left-right",
      stats: stats({ medianMemory: 2.15, p90Memory: 36.2 }),
      corrEdges: 0.2,
      corrBrightness: 0.8,
    },
  ];
  const rows = views.gateRows(maps);
  assert.equal(rows[1]["p90 memory (px)"], 36.2);
  assert.equal(rows[0]["corr(|g|, brightness)"], 0.9);

  const s = views.gateSentence(maps, { edges: 0.298, brightness: 0.905 });
  assert.match(s, /median per block and direction is 0\.72 to 2\.15/);
  assert.match(s, /block 4, left-right \(a tenth of its pixels keep more than 36\.2 px\)/);
  assert.match(
    s,
    /a weak positive relation to local edge strength \(r = 0\.30: edges account for 9 %/,
  );
  assert.match(s, /a strong positive relation to brightness \(r = 0\.91, 82 %\)/);
  assert.match(s, /follow how bright a pixel is far more than where the edges are/);
  assert.ok(!/open most around edges/.test(s));
  const e = views.gateSentence(maps, { edges: 0.75, brightness: 0.1 });
  assert.match(e, /follow the edges more than the brightness/);
  assert.equal(views.correlationWords(0.05), "no clear relation");
  assert.equal(views.correlationWords(-0.55), "a clear negative relation");

  const h = views.gateHistogram([
    { block: 1, data: [0.01, 0.5, 0.99, 1] },
    { block: 2, data: [-0.26] },
  ], 4);
  assert.deepEqual(h.centres, ["0.125", "0.375", "0.625", "0.875"]);
  assert.deepEqual(h.series[0], { name: "block 1", values: [0.25, 0, 0.25, 0.5] });
  assert.deepEqual(h.series[1].values, [0, 1, 0, 0], "|g| of a negative gate");
});

// ---------------------------------------------------------------------------------------
// The answer

const summary = (o: Partial<ErfSummary>): ErfSummary => ({
  r50: 7,
  r90: 16,
  r99: 22,
  extent: 64,
  reachesBorder: true,
  farMass: 0.08,
  farLeftShare: 0.5,
  farUpShare: 0.5,
  ...o,
});

/** Notebook 02's measured numbers (its full run before this change). */
const MEASURED: views.ErfAnswerInput = {
  size: 128,
  far: 16,
  openGate: 0.9,
  open: {
    oneBlock: summary({ farLeftShare: 0.5956, farMass: 0.1514 }),
    fourBlocks: summary({ farLeftShare: 0.6554, farMass: 0.08254 }),
    oneDir: summary({ farLeftShare: 0.8394 }),
    cnn: summary({ extent: 36, reachesBorder: false, farLeftShare: 0.6693, farMass: 0.07009 }),
  },
  init: {
    svrnn: summary({ extent: 44, reachesBorder: false, farMass: 0.07766 }),
    svrnnGate: 0.06381,
    cnn: summary({ extent: 36, reachesBorder: false, farMass: 0.07009 }),
    variantReach: [49, 48, 44, 39, 35],
  },
  trained: {
    shipped: true,
    svrnn: summary({ r99: 62, farMass: 0.4829, farLeftShare: 0.6383 }),
    svrnnGate: 0.4755,
    oneDir: summary({ farLeftShare: 0.9494 }),
    nah: summary({ farMass: 0.1194 }),
    cnn: summary({ extent: 32, reachesBorder: false, farMass: 0.1158 }),
  },
  gates: {
    maps: [{
      block: 1,
      direction: "left-right",
      stats: stats({}),
      corrEdges: 0.3,
      corrBrightness: 0.9,
    }],
    corr: { edges: 0.298, brightness: 0.905 },
  },
};

Deno.test("erfAnswer: the measured numbers, in words that agree with them", () => {
  const md = views.erfAnswer(MEASURED);
  const bullets = md.split("\n").filter((l) => l.startsWith("* "));
  assert.equal(bullets.length, 5, md);
  assert.match(
    bullets[0],
    /one block of four scans already reaches the border of the 128x128 crop \(64 px from the output pixel\), and so do four blocks; the CNN control of the same size stops at 36 px/,
  );
  assert.match(bullets[0], /IIR-versus-FIR/);
  // Directions: 0.66 on the left is not symmetric.
  assert.ok(
    !/symmetric:|balance it/.test(bullets[1]) || /do not make the field symmetric/.test(bullets[1]),
  );
  assert.match(bullets[1], /84 % of its far field \(beyond 16 px\) lies on the left/);
  assert.match(
    bullets[1],
    /do not make the field symmetric: 66 % on the left, about as uneven as the CNN control, which has no scan at all \(67 % on the left\)/,
  );
  assert.match(
    bullets[1],
    /Trained, the one-direction variant is still one-sided \(95 % on the left\)/,
  );
  assert.match(
    bullets[2],
    /mean \|g\| of svrnn-small 0\.064, a memory of 0\.4 half-resolution pixels/,
  );
  assert.match(bullets[2], /reach 35 to 49 px and keep 7\.8 % .* the CNN control 36 px and 7\.0 %/);
  assert.match(
    bullets[3],
    /open wider \(mean \|g\| 0\.475 against 0\.064\) and 48\.3 % .*\(7\.8 % at initialisation\), with a 99 % radius of 62 px \(22 px\)/,
  );
  assert.match(
    bullets[3],
    /nah-small 11\.9 % and the CNN control 11\.6 % \(reach 32 px\) beyond 16 px/,
  );
  assert.match(bullets[3], /Training is what gives SVRNN its long range/);
  assert.match(bullets[4], /a weak positive relation to local edge strength/);
  assert.ok(!md.includes("Quick mode"));

  // Balanced numbers get the balanced wording; an unbalanced CNN is no excuse.
  const balanced = views.erfAnswer({
    ...MEASURED,
    open: { ...MEASURED.open, fourBlocks: summary({ farLeftShare: 0.52 }) },
  });
  assert.match(balanced, /Four directions balance it: balanced \(52 % on the left\)/);
  const notOneSided = views.erfAnswer({
    ...MEASURED,
    open: { ...MEASURED.open, oneDir: summary({ farLeftShare: 0.52 }) },
    trained: { ...MEASURED.trained!, oneDir: summary({ farLeftShare: 0.45 }) },
  });
  assert.match(
    notOneSided,
    /is not one-sided here: its far field \(beyond 16 px\) is balanced \(52 % on the left\)/,
  );
  assert.match(
    notOneSided,
    /the one-direction variant has a far field \(balanced \(45 % on the left\)\)/,
  );
  const unlike = views.erfAnswer({
    ...MEASURED,
    open: {
      ...MEASURED.open,
      cnn: summary({ extent: 36, reachesBorder: false, farLeftShare: 0.5 }),
    },
  });
  assert.match(unlike, /66 % on the left \(CNN control: balanced \(50 % on the left\)\)/);
  // Without trained weights or gate maps: those bullets are left out; quick mode says so.
  const bare = views.erfAnswer({ ...MEASURED, trained: undefined, gates: undefined, quick: true });
  assert.equal(bare.split("\n").filter((l) => l.startsWith("* ")).length, 3);
  assert.match(bare, /Quick mode/);
  // Same reach everywhere.
  const same = views.erfAnswer({ ...MEASURED, init: { ...MEASURED.init, variantReach: [24, 24] } });
  assert.match(same, /variants all reach 24 px/);
  // Gates that did not open are not said to.
  const closed = views.erfAnswer({
    ...MEASURED,
    trained: { ...MEASURED.trained!, svrnnGate: 0.07, svrnn: summary({ farMass: 0.08 }) },
  });
  assert.match(closed, /about as open/);
  assert.ok(!closed.includes("Training is what gives"));
});
