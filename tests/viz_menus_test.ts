/**
 * lib/viz/menus.ts and lib/viz/colormap.ts: dropdown and slider figures toggle trace
 * visibility and titles; the static SVG draws only the active option; colour-mapped maps
 * and montages have the expected sizes and colours.
 */
import assert from "node:assert/strict";
import { lineFigure } from "../lib/viz/figure.ts";
import { menuFigure } from "../lib/viz/menus.ts";
import { renderSvg } from "../lib/viz/svg.ts";
import { colormapImage, colorRange, montage } from "../lib/viz/colormap.ts";

const figA = lineFigure([{ name: "alpha-trace", y: [1, 2, 3] }], { title: "A" });
const figB = lineFigure([{ name: "beta-one", y: [3, 2] }, { name: "beta-two", y: [0, 1] }], {
  title: "B",
});

Deno.test("menuFigure: a dropdown shows one option's traces at a time", () => {
  const f = menuFigure([{ label: "a", figure: figA }, { label: "b", figure: figB }], { active: 1 });
  assert.equal(f.data.length, 3);
  assert.deepEqual(f.data.map((t) => t.visible), [false, true, true]);
  assert.equal(f.layout.title?.text, "B");
  const menu = (f.layout.updatemenus as any[])[0];
  assert.equal(menu.active, 1);
  assert.deepEqual(menu.buttons.map((b: any) => b.label), ["a", "b"]);
  assert.deepEqual(menu.buttons[0].args[0].visible, [true, false, false]);
  assert.deepEqual(menu.buttons[0].args[1].title.text, "A");
  // The static rendering draws the active option only.
  const svg = renderSvg(f);
  assert.ok(svg.includes("beta-one") && svg.includes("beta-two"));
  assert.ok(!svg.includes("alpha-trace"));
  // The inputs are untouched.
  assert.equal(figA.data[0].visible, undefined);
});

Deno.test("menuFigure: slider, titles, errors", () => {
  const f = menuFigure(
    [{ label: "a", figure: figA, title: "first" }, { label: "b", figure: figB }],
    { control: "slider", prefix: "variant: " },
  );
  const slider = (f.layout.sliders as any[])[0];
  assert.equal(slider.currentvalue.prefix, "variant: ");
  assert.equal(slider.steps[1].args[1].title.text, "B");
  assert.equal(f.layout.title?.text, "first");
  assert.equal(f.layout.updatemenus, undefined);
  assert.throws(() => menuFigure([]), /no options/);
  assert.throws(() => menuFigure([{ label: "a", figure: figA }], { active: 1 }), /active/);
});

Deno.test("colormapImage and montage", () => {
  const img = colormapImage([0, 1, 2, 3], 2, 2, { scale: "Greys", upscale: 2 });
  assert.deepEqual([img.width, img.height], [4, 4]);
  assert.equal(img.data[0], 0, "min is black on Greys");
  assert.equal(img.data[(3 * 4 + 3) * 3], 1, "max is white");
  const fixed = colormapImage([5, 5], 2, 1, { scale: "Greys", range: [0, 10] });
  assert.ok(Math.abs(fixed.data[0] - 128 / 255) < 0.01);
  const logged = colormapImage([1e-6, 1], 2, 1, {
    scale: "Greys",
    transform: Math.log10,
    range: [-6, 0],
  });
  assert.equal(logged.data[0], 0);
  assert.equal(logged.data[3], 1);
  const values = Array.from({ length: 101 }, (_, i) => i);
  values[50] = 1e6;
  values[3] = NaN;
  assert.deepEqual(colorRange(values), [0, 1e6]);
  assert.deepEqual(colorRange(values, [0.02, 0.98]), [2, 99]);
  assert.deepEqual(colorRange([NaN]), [Infinity, -Infinity]);
  const robust = colormapImage(values, 101, 1, { scale: "Greys", quantiles: [0.02, 0.98] });
  assert.equal(robust.data[50 * 3], 1, "the outlier is clipped to the top");
  assert.ok(Math.abs(robust.data[51 * 3] - 0.5) < 0.02, "the rest spans the scale");
  const m = montage([img, fixed], { gap: 1 });
  assert.deepEqual([m.width, m.height], [4 + 1 + 4, 4]);
  assert.equal(m.data[(0 * 9 + 4) * 3], 1, "gap is white");
  const grid = montage([img, img, img], { columns: 2, gap: 0 });
  assert.deepEqual([grid.width, grid.height], [8, 8]);
  assert.throws(() => montage([]), /no images/);
});
