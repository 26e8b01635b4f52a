/**
 * lib/viz: plotly figure builders, the static SVG renderer, HTML, notebook bundles,
 * tables, images and the results writers.
 */
import assert from "node:assert/strict";
import {
  barFigure,
  heatmapFigure,
  imageFigure,
  lineFigure,
  scatterFigure,
  withHLine,
  zPlaneFigure,
} from "../lib/viz/figure.ts";
import { colorAt, renderSvg } from "../lib/viz/svg.ts";
import { figureHtml, figurePage, PLOTLY_CDN, scriptJson } from "../lib/viz/html.ts";
import { display, figureBundle, inKernel, show } from "../lib/viz/show.ts";
import { formatCell, htmlTable, markdownTable } from "../lib/viz/table.ts";
import { arrayToImage, imageDataUrl, imagesHtml } from "../lib/viz/image.ts";
import { writeFigure, writeTable } from "../lib/viz/write.ts";
import { decodeImage } from "../lib/data/codec.ts";

/** Checks that every opened tag is closed in order (a cheap well-formedness test). */
function assertBalanced(xml: string): void {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (selfClose) continue;
    if (close) assert.equal(stack.pop(), name, `closing </${name}>`);
    else stack.push(name);
  }
  assert.deepEqual(stack, [], "unclosed tags");
}

Deno.test("lineFigure: plotly JSON with rounded values, gaps for non-finite", () => {
  const fig = lineFigure([{ name: "a", y: [1 / 3, NaN, 2] }], {
    title: "T",
    xTitle: "n",
    logY: true,
    yRange: [1e-3, 10],
  });
  assert.equal(fig.data.length, 1);
  assert.deepEqual(fig.data[0].x, [0, 1, 2]);
  assert.deepEqual(fig.data[0].y, [0.333333, null, 2]);
  assert.equal(fig.layout.title?.text, "T");
  assert.equal(fig.layout.yaxis?.type, "log");
  assert.deepEqual(fig.layout.yaxis?.range, [-3, 1]);
  // JSON-serialisable as is.
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig);
});

Deno.test("renderSvg: line, log, bar, scatter, heatmap, z-plane and image figures", () => {
  const figs = [
    lineFigure([
      { name: "sine", y: Array.from({ length: 50 }, (_, i) => Math.sin(i / 5)) },
      { name: "steps", y: [0, 1, 1, 0], shape: "hv", dash: "dash", mode: "lines+markers" },
    ], { title: "A & <b>B</b> < 3", xTitle: "n", yTitle: "v" }),
    lineFigure([{ name: "decay", y: Array.from({ length: 30 }, (_, i) => 0.8 ** i) }], {
      logY: true,
    }),
    barFigure(["a", "b", "c"], [{ name: "s1", values: [1, 2, 3] }, {
      name: "s2",
      values: [2, 1, 0.5],
    }]),
    scatterFigure([{ name: "p", x: [1, 10, 100], y: [1e-1, 1e-3, 1e-5], symbol: "x" }], {
      logX: true,
      logY: true,
    }),
    heatmapFigure([[0, 1], [2, 3], [4, 5]], { colorscale: "RdBu", symmetric: true }),
    zPlaneFigure([{ name: "k", zeros: [{ re: 0.5, im: 0.5 }, { re: 0.5, im: -0.5 }] }]),
    withHLine(lineFigure([{ name: "a", x: [1, 5], y: [1, 2] }]), 1.5, "ref"),
  ];
  for (const fig of figs) {
    const svg = renderSvg(fig);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.endsWith("</svg>"));
    assertBalanced(svg);
    assert.ok(!svg.includes("NaN"), "no NaN coordinates");
  }
  const s0 = renderSvg(figs[0]);
  assert.ok(s0.includes(">A &amp; B &lt; 3</text>"), "title: tags dropped, text escaped");
  assert.ok(s0.includes("stroke-dasharray"), "dashed line");
  assert.match(
    renderSvg(figs[1]),
    /10\u207b[\u00b9\u00b2\u00b3\u2070-\u2079]/,
    "log ticks as powers of ten",
  );
  assert.match(renderSvg(figs[4]), /href="data:image\/png;base64,/, "heatmap as PNG");
  // Equal axis scales: the z-plane's plot area is square.
  const rect = renderSvg(figs[5]).match(
    /<clipPath id="\w+"><rect [^>]*width="([\d.]+)" height="([\d.]+)"/,
  )!;
  assert.ok(
    Math.abs(Number(rect[1]) - Number(rect[2])) < 1,
    `square plot area ${rect[1]}x${rect[2]}`,
  );
  // An image figure draws its data URL.
  const url = imageDataUrl(arrayToImage([0, 1, 0.5, 0.25], 2, 2));
  assert.ok(renderSvg(imageFigure(url, 2, 2)).includes(url));
});

Deno.test("barFigure intervals: plotly error_y, drawn by the SVG renderer within the axes", () => {
  const fig = barFigure(["a", "b"], [{
    name: "d",
    values: [0.5, -0.2],
    interval: { lo: [0.25, -0.9], hi: [1.5, 0.1] },
  }]);
  const e = fig.data[0].error_y as { array: number[]; arrayminus: number[] };
  assert.deepEqual(e.array, [1, 0.3]);
  assert.deepEqual(e.arrayminus.map((v) => Math.round(v * 1e6) / 1e6), [0.25, 0.7]);
  const svg = renderSvg(fig);
  const bars = [...svg.matchAll(/<path d="M([\d.]+),([\d.]+)V([\d.]+)/g)];
  assert.equal(bars.length, 2, "one error bar per bar");
  // The axis range covers the interval ends (1.5 and -0.9), not just the bars.
  const ticks = [...svg.matchAll(/>(-?[\d.]+)<\/text>/g)].map((m) => Number(m[1]));
  assert.ok(Math.max(...ticks) >= 1.4 && Math.min(...ticks) <= -0.8, `ticks ${ticks}`);
  // The first bar's interval is longer than the second's (1.25 against 1.0 dB).
  const len = bars.map((m) => Math.abs(Number(m[3]) - Number(m[2])));
  assert.ok(len[0] > len[1], `lengths ${len}`);
  assert.equal(barFigure(["a"], [{ name: "x", values: [1] }]).data[0].error_y, undefined);
});

Deno.test("colorAt: end points of the scales", () => {
  assert.deepEqual(colorAt("Viridis", 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(colorAt("Viridis", 1), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(colorAt("Greys", 0.5), [128, 128, 128]);
  assert.deepEqual(colorAt("Greys", 0, true), [255, 255, 255]);
});

Deno.test("figureHtml and figureBundle: plotly JSON, html with static SVG and loader, svg", () => {
  const fig = lineFigure([{ name: "</script><b>", y: [1, 2, 3] }], { title: "t" });
  const html = figureHtml(fig, { id: "f1" });
  assert.ok(html.startsWith('<div id="f1"'));
  assert.ok(html.includes("<svg"), "static SVG placeholder");
  assert.ok(!html.includes("</script><b>"), "names cannot close the script element");
  assert.ok(html.includes(PLOTLY_CDN));
  assert.equal(JSON.parse(scriptJson({ a: "</script>" })).a, "</script>");
  const b = figureBundle(fig, { title: "Renamed" });
  assert.deepEqual(Object.keys(b).sort(), [
    "application/vnd.plotly.v1+json",
    "image/svg+xml",
    "text/html",
    "text/plain",
  ]);
  const plotly = b["application/vnd.plotly.v1+json"] as { layout: { title: { text: string } } };
  assert.equal(plotly.layout.title.text, "Renamed");
  assert.match(String(b["text/plain"]), /Renamed/);
  const page = figurePage(fig, { comment: "--only x --> y" });
  assert.ok(page.startsWith("<!DOCTYPE html>\n<!--\n--only x - -> y\n-->"));
  assert.ok(page.includes('<script src="plotly.min.js"></script>'));
});

Deno.test("show outside a kernel prints the text/plain part", async () => {
  assert.equal(inKernel(), false);
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await show(lineFigure([{ name: "a", y: [1] }], { title: "Hello" }));
    await display({ "text/plain": "plain" });
  } finally {
    console.log = orig;
  }
  assert.deepEqual(lines, ["[figure: Hello; 1 trace(s)]", "plain"]);
});

Deno.test("tables: Markdown and HTML, numbers formatted, pipes escaped", () => {
  const rows = [{ name: "a|b", n: 3, x: 0.000123456, y: 1.23456 }, {
    name: "c",
    n: 10,
    x: 2,
    y: null,
  }];
  assert.equal(
    markdownTable(rows),
    [
      "| name | n | x | y |",
      "|---|---:|---:|---:|",
      "| a\\|b | 3 | 1.23e-4 | 1.235 |",
      "| c | 10 | 2 |  |",
    ].join("\n"),
  );
  assert.equal(
    markdownTable(rows, [{ key: "name", label: "Name" }, "n"]),
    "| Name | n |\n|---|---:|\n| a\\|b | 3 |\n| c | 10 |",
  );
  assert.equal(formatCell([1, 0.5]), "1, 0.5");
  const html = htmlTable(rows, undefined, "Cap <x>");
  assert.ok(html.includes("<caption") && html.includes("Cap &lt;x&gt;"));
  assertBalanced(html);
});

Deno.test("images: PNG data URL round-trips, side-by-side HTML", () => {
  const data = new Float32Array([0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1]);
  const img = { width: 2, height: 2, data };
  const url = imageDataUrl(img);
  assert.match(url, /^data:image\/png;base64,/);
  const bytes = Uint8Array.from(atob(url.split(",")[1]), (c) => c.charCodeAt(0));
  const back = decodeImage(bytes);
  assert.deepEqual(Array.from(back.data), Array.from(data));
  const html = imagesHtml([{ image: img, label: "a" }, { image: img, label: "b" }], { scale: 8 });
  assert.equal(html.match(/<img /g)?.length, 2);
  assert.ok(html.includes('width="16"'));
  const grey = arrayToImage([0, 2, 4, 6], 2, 2);
  const greys = Array.from(grey.data.filter((_, i) => i % 3 === 0));
  [0, 1 / 3, 2 / 3, 1].forEach((v, i) => assert.ok(Math.abs(greys[i] - v) < 1e-6));
});

Deno.test({
  name: "writeFigure and writeTable: html, svg, json and md with provenance",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const fig = lineFigure([{ name: "a", y: [1, 2, 3] }], { title: "Saved" });
      const paths = await writeFigure(fig, "t_fig", { dir: `${dir}/figures`, notebook: "00_test" });
      const html = await Deno.readTextFile(paths.html);
      assert.match(
        html,
        /^<!DOCTYPE html>\n<!--\nt_fig: written by lib\/viz\/write.ts from notebooks\/00_test.ipynb/,
      );
      assert.match(html, /commit ([0-9a-f]{40}|unknown)/);
      const svg = await Deno.readTextFile(paths.svg);
      assert.ok(svg.startsWith("<svg") && svg.includes("<metadata>\nt_fig"));
      for (const m of svg.matchAll(/<!--([\s\S]*?)-->/g)) {
        assert.ok(!m[1].includes("--"), "valid XML: no double hyphen in comments");
      }
      const json = JSON.parse(await Deno.readTextFile(paths.json));
      assert.deepEqual(json.figure, fig);
      assert.equal(json.notebook, "00_test");
      assert.ok(json.provenance.date);
      const tab = await writeTable("t_tab", [{ a: 1, b: "x" }], {
        dir: `${dir}/tables`,
        title: "Title",
      });
      const md = await Deno.readTextFile(tab.md);
      assert.match(md, /^<!-- t_tab: written by lib\/viz\/write.ts/);
      assert.ok(md.includes("**Title**\n\n| a | b |"));
      assert.deepEqual(JSON.parse(await Deno.readTextFile(tab.json)).rows, [{ a: 1, b: "x" }]);
      await assert.rejects(() => writeFigure(fig, "bad name", { dir }), /plain file name/);
      const byPath = await writeFigure(fig, `${dir}/sub/by_path.html`);
      assert.equal(byPath.svg, `${dir}/sub/by_path.svg`);
      await Deno.stat(byPath.json);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
