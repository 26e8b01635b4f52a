/**
 * Every display the kit makes renders where only PNG, SVG and text are shown (GitHub's
 * notebook view): the rule is in tests/support/static_mime.ts (image content needs an
 * `image/png` or `image/svg+xml`; otherwise real text, not a placeholder such as
 * "[3 image(s): ...]" or "<Figure>"; a table carries `text/markdown` and `text/html`).
 *
 * Checked here on the library's display bundles (lib/viz/show.ts: figures of every kind,
 * menus, image galleries, tables, Markdown, text) and on the rule's own verdicts. The
 * notebooks' outputs are checked by tests/notebooks_test.ts on the notebooks it executes in
 * quick mode (the committed notebooks pass once `deno task reproduce` has regenerated them;
 * `deno run -A tests/support/static_mime.ts notebooks/*.ipynb` lists what does not yet).
 *
 * Also: the static SVG keeps what a reader needs: a heatmap's colour-bar title, long legend
 * entries (wrapped, not cut) and long titles (wrapped).
 */
import assert from "node:assert/strict";
import {
  figureBundle,
  imagesBundle,
  markdownBundle,
  tableBundle,
  textBundle,
} from "../lib/viz/show.ts";
import {
  barFigure,
  heatmapFigure,
  imageFigure,
  lineFigure,
  scatterFigure,
  zPlaneFigure,
} from "../lib/viz/figure.ts";
import { menuFigure } from "../lib/viz/menus.ts";
import { renderSvg } from "../lib/viz/svg.ts";
import { imageDataUrl, imagesSvg, wrapText } from "../lib/viz/image.ts";
import { markdownTable, textTable } from "../lib/viz/table.ts";
import type { RgbImage } from "../lib/data/image.ts";
import { isPlaceholderText, notebookStaticProblems, staticProblem } from "./support/static_mime.ts";

const asOutput = (data: Record<string, unknown>) => ({ output_type: "display_data", data });

const img = (w: number, h: number): RgbImage => ({
  width: w,
  height: h,
  data: new Float32Array(w * h * 3).map((_, i) => (i % 5) / 5),
});

/** The text content of an SVG's <text> elements, joined by spaces. */
const svgText = (svg: string) =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).join(" ")
    .replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");

Deno.test("static rule: verdicts on hand-made outputs", () => {
  const ok = (d: Record<string, unknown>) => assert.equal(staticProblem(asOutput(d)), null);
  const bad = (d: Record<string, unknown>, re: RegExp) =>
    assert.match(staticProblem(asOutput(d)) ?? "(passed)", re);
  ok({ "text/plain": "a real sentence" });
  ok({ "text/markdown": "**bold**", "text/plain": "**bold**" });
  ok({ "image/png": "iVBORw0KGgo=", "text/plain": "[1 image(s): a 4x4]" });
  ok({ "text/html": "<b>hi</b>", "text/plain": "hi" });
  ok({ "application/vnd.plotly.v1+json": {}, "image/svg+xml": "<svg></svg>" });
  ok({ "text/html": "<table><tr><td>1</td></tr></table>", "text/markdown": "| 1 |" });
  bad(
    { "text/html": '<div><img src="data:..."/></div>', "text/plain": "[2 image(s): a, b]" },
    /image content/,
  );
  bad({ "application/vnd.plotly.v1+json": {}, "text/plain": "[figure: x; 1 trace(s)]" }, /plotly/);
  bad({ "text/plain": "<Figure size 640x480 with 1 Axes>" }, /placeholder/);
  bad({ "text/plain": "[object Object]" }, /placeholder/);
  bad({ "text/plain": "   " }, /placeholder/);
  bad({ "text/html": "<table></table>", "text/plain": "t" }, /table without text\/markdown/);
  bad({}, /no data/);
  // Streams and errors are text already.
  assert.equal(staticProblem({ output_type: "stream" }), null);
  assert.equal(
    notebookStaticProblems({
      cells: [{ cell_type: "markdown" }, {
        cell_type: "code",
        outputs: [asOutput({ "text/plain": "[object Object]" })],
      }],
    })[0],
    'cell 1, output 0: only a placeholder: "[object Object]"',
  );
  assert.ok(isPlaceholderText("[3 image(s): a 4x4, b 4x4, c 4x4]"));
  assert.ok(!isPlaceholderText("[1, 2, 3]"), "an array printed is text");
  assert.ok(!isPlaceholderText("x < y and y > z"));
});

Deno.test("static rule: every kind of figure bundle carries a static SVG", () => {
  const line = lineFigure([{ name: "a", y: [1, 2, 3] }, { name: "b", y: [3, 1, 2] }], {
    title: "t",
  });
  const figures = [
    line,
    scatterFigure([{ name: "g", x: [1, 2], y: [2, 1] }]),
    barFigure(["x", "y"], [{ name: "s", values: [1, 2] }]),
    heatmapFigure([[0, 1], [1, 0]], { colorbarTitle: "dB" }),
    imageFigure(imageDataUrl(img(8, 6)), 8, 6, { title: "montage" }),
    zPlaneFigure([{ name: "p", poles: [{ re: 0.5, im: 0 }] }]),
    menuFigure([{ label: "one", figure: line }, { label: "two", figure: line }]),
  ];
  for (const f of figures) {
    const b = figureBundle(f);
    assert.equal(staticProblem(asOutput(b)), null, JSON.stringify(f.layout.title));
    assert.match(String(b["image/svg+xml"]), /^<svg /);
  }
});

Deno.test("static rule: image galleries carry an SVG with every image and caption", () => {
  const labels = ["svrnn-small at init", "svrnn-small-1block (trained, after 2000 steps)", "c"];
  const items = labels.map((label, i) => ({ image: img(20 + i, 16), label }));
  const b = imagesBundle(items, { title: "ERFs before and after training", scale: 2 });
  assert.equal(staticProblem(asOutput(b)), null);
  const svg = String(b["image/svg+xml"]);
  assert.equal((svg.match(/<image /g) ?? []).length, 3);
  assert.equal((svg.match(/href="data:image\/png;base64,/g) ?? []).length, 3);
  const words = svgText(svg);
  for (const l of [...labels, "ERFs before and after training"]) {
    for (const w of l.split(" ")) assert.ok(words.includes(w), `caption word ${w} in ${words}`);
  }
  assert.ok(!("image/png" in b), "a composite is the SVG, not one PNG of the first image");
  // One image: also a PNG (what most viewers prefer).
  const one = imagesBundle(img(8, 8));
  assert.ok(String(one["image/png"]).length > 0);
  assert.equal(staticProblem(asOutput(one)), null);
  // Rows wrap at rowWidth: 6 images of 200 px in rows of at most 980 px.
  const wide = imagesSvg(Array.from({ length: 6 }, () => ({ image: img(200, 100) })));
  const ys = new Set([...wide.matchAll(/<image x="[^"]*" y="([^"]*)"/g)].map((m) => m[1]));
  assert.equal(ys.size, 2, "two rows");
  assert.ok(Number(wide.match(/width="(\d+)"/)![1]) <= 980);
});

Deno.test("static rule: tables carry HTML, Markdown and padded plain text", () => {
  const rows = [{ model: "svrnn-small", "PSNR (dB)": 27.312 }, { model: "cnn", "PSNR (dB)": 3 }];
  const b = tableBundle(rows, { title: "Scores" });
  assert.equal(staticProblem(asOutput(b)), null);
  assert.match(String(b["text/html"]), /<table/);
  assert.match(String(b["text/markdown"]), /^\*\*Scores\*\*\n\n\| model /);
  const lines = String(b["text/plain"]).split("\n").slice(2);
  assert.equal(new Set(lines.map((l) => l.length)).size, 1, `aligned:\n${lines.join("\n")}`);
  assert.equal(lines[1], "|-------------|----------:|");
  assert.match(lines[3], /^\| cnn {9}\| {9}3 \|$/);
  // The padded table is the same Markdown table (same cells once the padding is trimmed).
  const cells = (t: string) =>
    t.split("\n").filter((_, i) => i !== 1).map((l) => l.split("|").map((c) => c.trim()));
  assert.deepEqual(cells(textTable(rows)), cells(markdownTable(rows)));
  assert.equal(staticProblem(asOutput(markdownBundle("**note**"))), null);
  assert.equal(staticProblem(asOutput(textBundle("trained 6 steps"))), null);
});

Deno.test("static SVG: colour-bar title, long legend entries and long titles survive", () => {
  const heat = renderSvg(
    heatmapFigure([[0, 1], [1, 0]], { colorbarTitle: "log10 |grad|", zmin: -6, zmax: 0 }),
  );
  assert.ok(svgText(heat).includes("log10 |grad|"), svgText(heat));
  // plotly's other spelling: colorbar.title as a string.
  const f = heatmapFigure([[0, 1]]);
  (f.data[0] as Record<string, unknown>).colorbar = { title: "px (half res.)" };
  assert.ok(svgText(renderSvg(f)).includes("px (half res.)"));

  const long = "svrnn-small-1block at init, a very long legend entry that goes on and on";
  const names = [long, "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o"];
  const svg = renderSvg(
    lineFigure(names.map((name, i) => ({ name, y: [i, i + 1] })), {
      title: "A title long enough that it cannot fit on one line of a figure 720 pixels wide, " +
        "so it has to be wrapped",
      height: 240,
    }),
  );
  const t = svgText(svg);
  assert.ok(!t.includes("\u2026"), "nothing cut with an ellipsis");
  assert.ok(t.replace(/\s+/g, " ").includes(long), t);
  assert.ok(t.includes("so it has to be wrapped"));
  // 15 entries do not fit in 240 px: the figure grows so the last one is inside it.
  const height = Number(svg.match(/height="(\d+)"/)![1]);
  const lastY = Math.max(...[...svg.matchAll(/<text x="[^"]*" y="([^"]*)" fill="#333">o</g)]
    .map((m) => Number(m[1])));
  assert.ok(height > 240 && lastY < height, `height ${height}, last entry at ${lastY}`);
});

Deno.test("wrapText: words in lines of at most N characters", () => {
  assert.deepEqual(wrapText("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
  assert.deepEqual(wrapText("unbreakablelongword x", 5), ["unbreakablelongword", "x"]);
  assert.deepEqual(wrapText("", 5), []);
});
