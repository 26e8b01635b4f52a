/**
 * lib/viz/architecture.ts: the SVRNN diagram drawn from a config is well-formed SVG, draws
 * one box per RNN block and one chip per scan direction, quotes the config's kernels and
 * channels and its gate source, changes with the config, and works for every registered
 * SVRNN; its display bundle renders in a static viewer.
 */
import assert from "node:assert/strict";
import { architectureBundle, architectureSvg, architectureText } from "../lib/viz/architecture.ts";
import { listModels, modelConfig } from "../lib/models/registry.ts";
import { type SVRNNConfig, svrnnParamCount } from "../lib/models/svrnn.ts";
import { DIRECTIONS } from "../lib/ops/gate_rnn_geometry.ts";
import { staticProblem } from "./support/static_mime.ts";

const config = (name: string, overrides?: Record<string, unknown>) =>
  modelConfig(name, overrides) as SVRNNConfig;

/** Throws unless every tag of `xml` is closed in order (an XML well-formedness sketch). */
function assertBalanced(xml: string): void {
  assert.ok(xml.startsWith("<svg "), "starts with <svg");
  assert.ok(xml.trimEnd().endsWith("</svg>"), "ends with </svg>");
  const body = xml.replace(/<!--[\s\S]*?-->/g, "");
  const stack: string[] = [];
  let read = 0;
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    read++;
    if (self) continue;
    if (close) {
      assert.equal(stack.pop(), name, `closing </${name}> matches its opening tag`);
    } else stack.push(name);
  }
  assert.deepEqual(stack, [], "every tag closed");
  // Every "<" starts a tag the pattern above read (no stray "<" in text: it is escaped).
  const tags = [...body.matchAll(/<[^>]*>/g)].length;
  assert.equal((body.match(/</g) ?? []).length, tags, "no unescaped < in text");
  assert.equal(read, tags, "every tag is a well-formed start, end or empty tag");
  // Attribute values and text hold no raw ampersand but entities.
  assert.ok(!/&(?!amp;|lt;|gt;|quot;|#\d+;)/.test(body), "ampersands escaped");
}

/** The texts of the SVG's <text> elements (unescaped). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(
      /&amp;/g,
      "&",
    )
  );
}

const blockBoxes = (svg: string) => texts(svg).filter((t) => /^RNN block \d+$/.test(t));

Deno.test("architecture: svrnn-small's diagram is balanced SVG with its blocks, directions, kernels and gates", () => {
  const c = config("svrnn-small");
  const svg = architectureSvg(c, { name: "svrnn-small" });
  assertBalanced(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="800"/);
  const t = texts(svg);
  assert.deepEqual(blockBoxes(svg), ["RNN block 1", "RNN block 2", "RNN block 3", "RNN block 4"]);
  // One chip per direction per block.
  for (const d of DIRECTIONS) assert.equal(t.filter((x) => x === d).length, 4, d);
  // Kernel sizes and channels from the config.
  for (const k of [c.e1Kernel, c.e2Kernel, c.d1Kernel, c.d2Kernel]) {
    assert.ok(t.some((x) => x.includes(`${k}×${k}`)), `kernel ${k}x${k}`);
  }
  assert.ok(t.some((x) => x.includes("stride 2")), "conve1_2 stride");
  for (const name of ["conve1_1", "conve1_2", "convd1_1", "convd1_2", "bilinear ×2", "+ x"]) {
    assert.ok(t.includes(name), name);
  }
  for (let k = 1; k <= 4; k++) {
    assert.ok(t.some((x) => x.includes(`conv_rnn${k} 3×3, 64→16`)), `conv_rnn${k}`);
  }
  assert.ok(t.includes("gate CNN (spatially variant)"));
  assert.ok(t.some((x) => x.includes("convgd2_2 → 256 ch")), "gate maps: 4 x 4 x 16");
  assert.ok(t.some((x) => x.includes(svrnnParamCount(c).toLocaleString("en-US"))), "params");
  assert.ok(t.some((x) => x.includes("h[t] = (1 − g[t]) · x[t] + g[t] · h[t−1]")));
  // No external font or resource.
  assert.ok(!/@import|url\((?!#)|<link|xlink:href="http|href="http/.test(svg), "self-contained");
  assert.match(svg, /font-family="Helvetica, Arial, sans-serif"/);
});

Deno.test("architecture: the drawing follows the config (blocks, directions, gate source, fuse, residual, kernels)", () => {
  const base = architectureSvg(config("svrnn-small"));
  // The ablation variants' changes, as overrides (their names are declared once, in
  // lib/models/variants.ts).
  const oneBlock = architectureSvg(config("svrnn-small", { numBlocks: 1 }));
  const fixed = architectureSvg(config("svrnn-small", { gate: "fixed" }));
  const invariant = architectureSvg(config("svrnn-small", { gate: "invariant" }));
  const twoDir = architectureSvg(
    config("svrnn-small", { directions: ["left-right", "right-left"] }),
  );
  const noFuse = architectureSvg(config("svrnn-small", { fuse: false }));
  const paper = architectureSvg(config("svrnn"));
  const none = architectureSvg(config("svrnn-small", { numBlocks: 0 }));
  const wide = architectureSvg(config("svrnn-small", { e1Kernel: 13, numBlocks: 6 }));
  const all = [base, oneBlock, fixed, invariant, twoDir, noFuse, paper, none, wide];
  assert.equal(new Set(all).size, all.length, "every config draws differently");
  for (const s of all) assertBalanced(s);

  assert.deepEqual(blockBoxes(oneBlock), ["RNN block 1"]);
  assert.equal(blockBoxes(wide).length, 6);
  assert.deepEqual(blockBoxes(none), []);
  assert.ok(texts(none).some((t) => t.includes("no RNN blocks")));
  assert.ok(
    texts(wide).some((t) => t.includes("13×13")) && !texts(base).some((t) => t.includes("13×13")),
  );

  const tf = texts(fixed);
  assert.ok(tf.includes("fixed gates") && tf.some((t) => t.includes("g = 0.5")));
  assert.ok(!tf.some((t) => t.includes("gate CNN")), "fixed gates: no gate CNN");
  const ti = texts(invariant);
  assert.ok(ti.includes("learned gates (invariant)"));
  assert.ok(
    ti.some((t) => t.includes("4 × 4 × 16 = 256")),
    "one value per block, direction, channel",
  );

  const t2 = texts(twoDir);
  assert.equal(t2.filter((t) => t === "left-right").length, 4);
  assert.equal(t2.filter((t) => t === "right-left").length, 4);
  assert.ok(
    !t2.includes("top-bottom") && !t2.includes("bottom-top"),
    "only the config's directions",
  );
  assert.ok(t2.some((t) => t.includes("convgd2_2 → 128 ch")), "gate maps: 4 x 2 x 16");

  assert.ok(texts(noFuse).some((t) => t.includes("elementwise max of the 4 scans (no conv_rnn1)")));
  assert.ok(!texts(noFuse).some((t) => t.includes("→ conv_rnn1")));
  const mean = texts(architectureSvg(config("svrnn-small-nofuse", { unfusedMerge: "mean" })));
  assert.ok(mean.some((t) => t.includes("elementwise mean")));

  const tp = texts(paper);
  assert.ok(tp.some((t) => t.includes("9,227,027")), "the paper's parameter count");
  assert.ok(tp.some((t) => t.includes("conv_rnn1 3×3, 128→32")));
  assert.ok(tp.some((t) => t.includes("no residual")) && !tp.includes("+ x"));
  assert.ok(texts(base).includes("+ x"), "small presets: global residual");
});

Deno.test("architecture: every registered SVRNN draws, with its own blocks and directions", () => {
  const svrnns = listModels().filter((m) => m.family === "svrnn");
  assert.ok(svrnns.length >= 10, `registered SVRNNs: ${svrnns.map((m) => m.name)}`);
  for (const m of svrnns) {
    const c = config(m.name);
    const svg = architectureSvg(c, { name: m.name });
    assertBalanced(svg);
    const t = texts(svg);
    assert.equal(blockBoxes(svg).length, c.numBlocks, m.name);
    for (const d of DIRECTIONS) {
      assert.equal(t.filter((x) => x === d).length, c.directions.includes(d) ? c.numBlocks : 0);
    }
    assert.ok(t.some((x) => x.startsWith(`${m.name}: SVRNN, ${m.params.toLocaleString("en-US")}`)));
    const text = architectureText(c, { name: m.name });
    assert.equal(text.split("\n").filter((l) => l.startsWith("RNN block")).length, c.numBlocks);
    for (const d of c.directions) assert.ok(text.includes(d), `${m.name}: ${d} in the text`);
  }
});

Deno.test("architecture: the bundle carries the SVG and a text fallback a static viewer shows", () => {
  const b = architectureBundle(config("svrnn-small-2dir"), {
    name: "svrnn-small-2dir",
    width: 640,
  });
  assert.deepEqual(Object.keys(b).sort(), ["image/svg+xml", "text/plain"]);
  assert.match(String(b["image/svg+xml"]), /^<svg [^>]*width="640"[^>]*viewBox="0 0 800 /);
  const text = String(b["text/plain"]);
  assert.match(text, /^svrnn-small-2dir: SVRNN, 239,883 parameters/);
  assert.match(text, /RNN block 4: scans left-right, right-left of its input/);
  assert.match(text, /conve1_1 11×11, 3→16 ch, LReLU/);
  assert.equal(staticProblem({ output_type: "display_data", data: b }), null);
  assert.throws(() => architectureSvg({ ...config("svrnn-small"), e1Kernel: 4 }), /must be odd/);
});

Deno.test("writeSvg: the diagram as results/figures/NAME.svg with provenance, still balanced", async () => {
  const { writeSvg } = await import("../lib/viz/write.ts");
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeSvg(architectureSvg(config("svrnn-small")), "02_architecture", { dir });
    assert.equal(path, `${dir}/02_architecture.svg`);
    const text = await Deno.readTextFile(path);
    assert.match(text, /^<svg [^>]*>\n<metadata>\n02_architecture: written by lib\/viz\/write.ts/);
    assertBalanced(text);
    await assert.rejects(() => writeSvg("<div/>", "x", { dir }), /not an <svg> document/);
    await assert.rejects(() => writeSvg("<svg/>", "../x", { dir }), /plain file name/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
