/**
 * The plotly loader of lib/viz/html.ts on pages with and without RequireJS (classic
 * notebook / nbconvert HTML exports load RequireJS; plotly.js 3's bundle never calls
 * define() and sets only window.Plotly, so `require(["plotly"])` hands its callback
 * undefined). First the generated script run against fake pages, then (when Debian's
 * chromium is installed) real pages rendered in headless Chromium.
 */
import assert from "node:assert/strict";
import { figureHtml, plotlyScript } from "../lib/viz/html.ts";
import { lineFigure } from "../lib/viz/figure.ts";
import { dumpDom, findChromium } from "./support/chromium.ts";

const fig = lineFigure([{ name: "a", y: [1, 3, 2] }], { title: "loader" });

interface FakePage {
  window: Record<string, unknown>;
  drawn: unknown[];
  /** Script elements the loader appended to document.head. */
  scripts: { src: string; onload?: () => void; onerror?: (e: unknown) => void }[];
}

/** A page with one element "f1" and a fake plotly.js that records newPlot calls. */
function fakePage(): FakePage {
  const page: FakePage = { window: {}, drawn: [], scripts: [] };
  const el = { innerHTML: "<svg>static</svg>" };
  const document = {
    getElementById: (id: string) => (id === "f1" ? el : null),
    createElement: () => ({ src: "" }),
    head: { appendChild: (s: FakePage["scripts"][number]) => page.scripts.push(s) },
  };
  page.window.document = document;
  return page;
}

function fakePlotly(page: FakePage) {
  return { newPlot: (el: unknown, data: unknown) => page.drawn.push({ el, data }) };
}

function run(page: FakePage, src = "plotly.min.js") {
  new Function("window", "document", plotlyScript(fig, "f1", src))(
    page.window,
    page.window.document,
  );
}

Deno.test("plotly loader: RequireJS page whose plotly bundle sets only window.Plotly (plotly 3)", () => {
  const page = fakePage();
  const paths: Record<string, string> = {};
  const require = (deps: string[], cb: (m: unknown) => void) => {
    assert.deepEqual(deps, ["plotly"]);
    assert.equal(paths.plotly, "https://example.org/plotly.min");
    page.window.Plotly = fakePlotly(page); // what the bundle does; define() is never called
    cb(undefined);
  };
  require.config = (c: { paths: Record<string, string> }) => Object.assign(paths, c.paths);
  page.window.require = require;
  run(page, "https://example.org/plotly.min.js");
  assert.equal(page.drawn.length, 1, "the figure is drawn from window.Plotly");
  assert.equal(page.scripts.length, 0, "no extra script tag under RequireJS");
});

Deno.test("plotly loader: RequireJS page whose plotly module is defined (AMD bundle)", () => {
  const page = fakePage();
  const require = (_deps: string[], cb: (m: unknown) => void) => cb(fakePlotly(page));
  require.config = () => {};
  page.window.require = require;
  run(page);
  assert.equal(page.drawn.length, 1);
});

Deno.test("plotly loader: page without RequireJS adds one script tag and draws on load", async () => {
  const page = fakePage();
  run(page);
  assert.equal(page.scripts.length, 1);
  assert.equal(page.scripts[0].src, "plotly.min.js");
  page.window.Plotly = fakePlotly(page);
  page.scripts[0].onload!();
  await (page.window.__svrnnPlotly as Promise<unknown>);
  await Promise.resolve();
  assert.equal(page.drawn.length, 1);
});

Deno.test("plotly loader: an already loaded window.Plotly draws at once", () => {
  const page = fakePage();
  page.window.Plotly = fakePlotly(page);
  run(page);
  assert.equal(page.drawn.length, 1);
  assert.equal(page.scripts.length, 0);
});

/**
 * A minimal RequireJS stand-in: `require.config({paths})`, `require([name], cb, errback)`
 * loading `paths[name] + ".js"` with a script tag, and `define` (with `define.amd`, as
 * RequireJS sets it) whose factory becomes the module value; a script that never calls
 * define() gives undefined, as in RequireJS.
 */
const REQUIRE_SHIM = `<script>(function () {
  var paths = {}, pending = null;
  window.define = function (deps, factory) { pending = typeof deps === "function" ? deps : factory; };
  window.define.amd = {};
  window.require = function (deps, cb, errback) {
    var s = document.createElement("script");
    s.src = paths[deps[0]] + ".js";
    s.onload = function () { var f = pending; pending = null; cb(f ? f() : undefined); };
    s.onerror = function (e) { if (errback) errback(e); };
    document.head.appendChild(s);
  };
  window.require.config = function (c) { for (var k in c.paths) paths[k] = c.paths[k]; };
})();</script>`;

const browser = await findChromium();

Deno.test({
  name: browser
    ? "plotly loader in headless Chromium: the figure draws with and without RequireJS"
    : "plotly loader in headless Chromium (SKIPPED: chromium not installed; apt-get install chromium)",
  ignore: !browser,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "svrnn-loader-" });
    try {
      await Deno.copyFile(
        new URL("../node_modules/plotly.js-dist-min/plotly.min.js", import.meta.url),
        `${dir}/plotly.min.js`,
      );
      for (const [name, head] of [["requirejs", REQUIRE_SHIM], ["plain", ""]]) {
        const page = `<!DOCTYPE html><html><head><meta charset="utf-8">${head}</head><body>
${figureHtml(fig, { id: "f1", plotlySrc: "plotly.min.js" })}
</body></html>`;
        await Deno.writeTextFile(`${dir}/${name}.html`, page);
        const dom = await dumpDom(browser!, `file://${dir}/${name}.html`, `${dir}/profile`);
        const start = dom.indexOf('id="f1"');
        assert.ok(start >= 0, `${name}: the figure's element is in the page`);
        assert.match(
          dom.slice(start),
          /<svg[^>]*class="main-svg"/,
          `${name}: plotly drew its SVG into the figure`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
