/**
 * Every plotly figure of every committed notebook draws in an nbconvert HTML export, opened
 * in headless Chromium: the page nbconvert writes (its lab template, with RequireJS loaded
 * as in any Jupyter HTML export), with one change: the pinned plotly.js CDN address is
 * pointed at the same file from node_modules, since the tests run offline. So what is tested
 * is the kit's loader on nbconvert's real page, and that each figure's div is replaced by
 * plotly's chart (`class="main-svg"`), not left with its static SVG.
 *
 * Needs Debian's chromium, python3-nbconvert and libjs-requirejs (`deno task test` installs
 * them); skipped with the missing piece named otherwise.
 */
import assert from "node:assert/strict";
import { PLOTLY_CDN } from "../lib/viz/html.ts";
import { hasModules } from "../lib/notebooks/jupyter.ts";
import { dumpDom, findChromium } from "./support/chromium.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const NOTEBOOKS = `${root}/notebooks`;
/** Debian's RequireJS (libjs-requirejs), given to nbconvert instead of its CDN copy. */
const REQUIRE_JS = "/usr/share/javascript/requirejs/require.min.js";

async function nbconvertPython(): Promise<string | null> {
  for (const py of [`${root}/.venv/bin/python`, "/usr/bin/python3"]) {
    if (await hasModules(py, ["nbconvert"])) return py;
  }
  return null;
}

const browser = await findChromium();
const python = await nbconvertPython();
const requireJs = await Deno.stat(REQUIRE_JS).then(() => true, () => false);
const missing = [
  browser ? null : "chromium",
  python ? null : "python3-nbconvert",
  requireJs ? null : "libjs-requirejs",
].filter((m) => m !== null);
const names = [...Deno.readDirSync(NOTEBOOKS)].map((e) => e.name)
  .filter((n) => n.endsWith(".ipynb")).sort();

/** The ids of the kit's figure divs in a notebook's outputs (lib/viz/html.ts). */
function figureIds(nb: { cells: { outputs?: { data?: Record<string, unknown> }[] }[] }): string[] {
  const ids: string[] = [];
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const html = o.data?.["text/html"];
      const text = Array.isArray(html) ? html.join("") : typeof html === "string" ? html : "";
      for (const m of text.matchAll(/<div id="([^"]+)" class="svrnn-figure"/g)) ids.push(m[1]);
    }
  }
  return ids;
}

Deno.test({
  name: missing.length === 0
    ? "nbconvert HTML export of every notebook: every plotly figure draws in headless Chromium"
    : `nbconvert HTML export in headless Chromium (SKIPPED: ${missing.join(", ")} not installed)`,
  ignore: missing.length > 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "svrnn-nbhtml-" });
    try {
      await Deno.copyFile(
        `${root}/node_modules/plotly.js-dist-min/plotly.min.js`,
        `${dir}/plotly.min.js`,
      );
      let total = 0;
      for (const file of names) {
        const name = file.replace(/\.ipynb$/, "");
        const nb = JSON.parse(await Deno.readTextFile(`${NOTEBOOKS}/${file}`));
        const ids = figureIds(nb);
        const conv = await new Deno.Command(python!, {
          args: [
            "-m",
            "nbconvert",
            "--to",
            "html",
            "--output-dir",
            dir,
            `--HTMLExporter.require_js_url=file://${REQUIRE_JS}`,
            `${NOTEBOOKS}/${file}`,
          ],
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.ok(conv.success, `nbconvert ${file}: ${new TextDecoder().decode(conv.stderr)}`);
        const exported = await Deno.readTextFile(`${dir}/${name}.html`);
        assert.ok(exported.includes(`file://${REQUIRE_JS}`), `${name}: the export loads RequireJS`);
        await Deno.writeTextFile(
          `${dir}/${name}.html`,
          exported.replaceAll(PLOTLY_CDN, `file://${dir}/plotly.min.js`),
        );
        const dom = await dumpDom(
          browser!,
          `file://${dir}/${name}.html`,
          `${dir}/profile-${name}`,
          {
            virtualTimeMs: 30_000,
          },
        );
        // Each figure's stretch of the page runs from its div to the next figure's.
        const starts = ids.map((id) => dom.indexOf(`id="${id}"`));
        const undrawn = ids.filter((_id, k) => {
          if (starts[k] < 0) return true;
          const end = starts.slice(k + 1).find((s) => s > starts[k]) ?? dom.length;
          return !dom.slice(starts[k], end).includes('class="main-svg"');
        });
        assert.deepEqual(undrawn, [], `${name}: figures left undrawn (of ${ids.length})`);
        total += ids.length;
      }
      assert.ok(total > 0, "the notebooks hold plotly figures");
      console.error(`notebook_html_test: ${total} figures drawn in ${names.length} notebooks`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
