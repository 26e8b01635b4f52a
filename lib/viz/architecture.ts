/**
 * The SVRNN architecture as a diagram drawn from a model config, so it follows every variant
 * (blocks, directions, gate source, fusing, widths, kernels, residual):
 *
 *   architectureSvg(modelConfig("svrnn-small") as SVRNNConfig, { name: "svrnn-small" })
 *
 * draws the network of `lib/models/svrnn.ts` in three columns: full resolution (input,
 * conve1_1 -> e1, the decoder's concat with e1, convd1_2, the optional residual, output),
 * half resolution (conve1_2 -> e2, the RNN blocks with one chip per scan direction and their
 * conv_rnnK or merge, the concat with e2, convd1_1, bilinear x2) and the gate source (the gate
 * CNN convg*, one learned value per channel, or the constant). Layer sizes come from
 * `svrnnLayers`, the builder's own list, so the drawing cannot disagree with the model.
 *
 * Plain SVG text: a white background, generic sans-serif fonts (no external font), about
 * 800 px wide. `architectureText` is the same network as indented text (the `text/plain`
 * of `architectureBundle`). Browser-safe: no Deno APIs.
 */
import type { ConvSpec } from "../models/layers.ts";
import {
  CONCAT_ORDER,
  type SVRNNConfig,
  svrnnLayers,
  svrnnParamCount,
  validateSVRNNConfig,
} from "../models/svrnn.ts";
import type { Direction } from "../ops/gate_rnn_geometry.ts";
import { type Bundle, display } from "./show.ts";

export interface ArchitectureOptions {
  /** The model's name, shown in the title (default "SVRNN"). */
  name?: string;
  /** Width of the drawing in px (default 800; the layout scales). */
  width?: number;
}

const FONT = `font-family="Helvetica, Arial, sans-serif"`;
const COLORS = {
  conv: "#dbe9f6",
  convLine: "#4a7bb7",
  block: "#fdf1dc",
  blockLine: "#c98a1b",
  chip: "#ffffff",
  gate: "#e4f3e1",
  gateLine: "#4f9a43",
  node: "#f2f2f2",
  nodeLine: "#888888",
  text: "#222222",
  muted: "#555555",
  arrow: "#444444",
};

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const f1 = (v: number) => (Math.round(v * 10) / 10).toString();
const k2 = (k: number) => `${k}×${k}`;

/** The layer of `name` in the builder's list (an Error naming the layer when absent). */
function layerOf(layers: ConvSpec[], name: string): ConvSpec {
  const l = layers.find((s) => s.name === name);
  if (!l) throw new Error(`architecture: the config has no layer ${name}`);
  return l;
}

/** What each part of the network is, derived from the config (shared by SVG and text). */
interface Parts {
  name: string;
  params: number;
  c: SVRNNConfig;
  directions: Direction[];
  e1: ConvSpec;
  e2: ConvSpec;
  d1: ConvSpec;
  d2: ConvSpec;
  fuse: ConvSpec[];
  gateCnn: ConvSpec[];
  /** Lines describing the gate source (first line: its title). */
  gateLines: string[];
  /** Per-block label of the gates a block receives. */
  gateInput: string;
  /** The merge of the directions after every block. */
  mergeLine: (k: number) => string;
}

function parts(config: SVRNNConfig, name: string): Parts {
  const c: SVRNNConfig = { ...config, directions: [...config.directions] };
  validateSVRNNConfig(c);
  const layers = svrnnLayers(c);
  const directions = CONCAT_ORDER.filter((d) => c.directions.includes(d));
  const nd = directions.length, r = c.rnnChannels, nb = c.numBlocks;
  const gateCnn = layers.filter((l) => l.name.startsWith("convg"));
  const fuse = layers.filter((l) => l.name.startsWith("conv_rnn"));
  const perBlock = `${nd} dir. × ${r} ch`;
  let gateLines: string[];
  if (nb === 0) gateLines = ["no RNN blocks", "no gates"];
  else if (c.gate === "variant") {
    const w = c.genWidth;
    const last = layerOf(gateCnn, "convgd2_2");
    gateLines = [
      "gate CNN (spatially variant)",
      `${gateCnn.length} convs, ${k2(3)}, ReLU, on x`,
      `convg1–4: widths ${w}·${2 * w}·${4 * w}·${8 * w}`,
      "  with 3 max-pools (1/8 res.)",
      "convgd1, convgd2: bilinear ×2",
      "  with skips (1/2 res.)",
      `convgd2_2 → ${last.outChannels} ch`,
      `  = ${plural(nb, "block")} × ${nd} dir. × ${r} ch`,
      "tanh: g in (−1, 1),",
      "  a value at every pixel",
    ];
  } else if (c.gate === "invariant") {
    gateLines = [
      "learned gates (invariant)",
      "one value per block, direction",
      `  and channel: ${nb} × ${nd} × ${r} = ${nb * nd * r}`,
      "tanh: g in (−1, 1),",
      "  the same at every pixel",
      `start: g = ${c.gateValue}`,
    ];
  } else {
    gateLines = [
      "fixed gates",
      `g = ${c.gateValue} at every pixel`,
      "  and channel; nothing learned",
      `(memory ${(-1 / Math.log(Math.abs(c.gateValue))).toFixed(1)} half-res. px)`,
    ];
  }
  const gateInput = c.gate === "variant"
    ? `g: ${perBlock} maps`
    : c.gate === "invariant"
    ? `g: ${perBlock} values`
    : `g = ${c.gateValue}`;
  const mergeLine = (k: number) => {
    if (c.fuse) {
      const f = layerOf(fuse, `conv_rnn${k}`);
      return nd > 1
        ? `concat ${nd}×${r} ch → conv_rnn${k} ${
          k2(f.kernel)
        }, ${f.inChannels}→${f.outChannels}, LReLU`
        : `conv_rnn${k} ${k2(f.kernel)}, ${f.inChannels}→${f.outChannels}, LReLU`;
    }
    return nd > 1
      ? `elementwise ${c.unfusedMerge} of the ${nd} scans (no conv_rnn${k})`
      : `the scan itself (no conv_rnn${k})`;
  };
  return {
    name,
    params: svrnnParamCount(c),
    c,
    directions,
    e1: layerOf(layers, "conve1_1"),
    e2: layerOf(layers, "conve1_2"),
    d1: layerOf(layers, "convd1_1"),
    d2: layerOf(layers, "convd1_2"),
    fuse,
    gateCnn,
    gateLines,
    gateInput,
    mergeLine,
  };
}

const convDetail = (l: ConvSpec, act: string) =>
  `${k2(l.kernel)}${
    l.stride > 1 ? ` stride ${l.stride}` : ""
  }, ${l.inChannels}→${l.outChannels} ch${act ? `, ${act}` : ""}`;

/**
 * The network of `config` as indented text, one line per layer (the text/plain fallback of
 * the diagram, and readable on its own).
 */
export function architectureText(config: SVRNNConfig, opts: ArchitectureOptions = {}): string {
  const p = parts(config, opts.name ?? "SVRNN");
  const { c } = p;
  const lines = [
    `${p.name}: SVRNN, ${p.params.toLocaleString("en-US")} parameters (lib/models/svrnn.ts)`,
    `input x: ${c.channels} ch, H×W`,
    `conve1_1 ${convDetail(p.e1, "LReLU")} → e1 (full resolution)`,
    `conve1_2 ${convDetail(p.e2, "")} → e2 (half resolution)`,
    `gates: ${p.gateLines[0]}: ${
      p.gateLines.slice(1).join("\n").replace(/,?\n {2}/g, (m) => (m[0] === "," ? ", " : " "))
        .split("\n").join("; ")
    }`,
  ];
  for (let k = 1; k <= c.numBlocks; k++) {
    lines.push(
      `RNN block ${k}: scans ${p.directions.join(", ")} of its input with ${p.gateInput}; ${
        p.mergeLine(k)
      }`,
    );
  }
  lines.push(
    `concat(e2, ${c.numBlocks ? `block ${c.numBlocks}` : "e2"}) → convd1_1 ${
      convDetail(p.d1, "LReLU")
    }`,
    `bilinear ×2 (${c.resize}) → concat(e1, ·) → convd1_2 ${convDetail(p.d2, "")}`,
    c.residual ? "output = x + convd1_2 (global residual)" : "output = convd1_2 (no residual)",
    "each scan, per channel along its direction: h[t] = (1 − g[t]) x[t] + g[t] h[t−1]",
  );
  return lines.join("\n");
}

/**
 * The network of `config` as a standalone SVG (see the file comment). Every RNN block is one
 * box labelled "RNN block k" holding one chip per scan direction (the direction's name and
 * an arrow), the gates it receives, and its conv_rnnK (or merge); the gate source is the
 * right-hand column.
 */
export function architectureSvg(config: SVRNNConfig, opts: ArchitectureOptions = {}): string {
  const p = parts(config, opts.name ?? "SVRNN");
  const { c } = p;
  const W = 800;
  const out: string[] = [];
  // Columns: full resolution, half resolution, gates.
  const L = { x: 24, w: 196 }, M = { x: 252, w: 336 }, R = { x: 612, w: 176 };
  const mid = (col: { x: number; w: number }) => col.x + col.w / 2;
  const text = (
    x: number,
    y: number,
    s: string,
    o: { size?: number; anchor?: string; weight?: string; fill?: string } = {},
  ) =>
    out.push(
      `<text x="${f1(x)}" y="${f1(y)}" font-size="${o.size ?? 12}"${
        o.anchor ? ` text-anchor="${o.anchor}"` : ""
      }${o.weight ? ` font-weight="${o.weight}"` : ""} fill="${o.fill ?? COLORS.text}">${
        esc(s)
      }</text>`,
    );
  const rect = (
    x: number,
    y: number,
    w: number,
    h: number,
    fill: string,
    stroke: string,
    o: { rx?: number; dash?: boolean; title?: string } = {},
  ) =>
    out.push(
      `<rect x="${f1(x)}" y="${f1(y)}" width="${f1(w)}" height="${f1(h)}" rx="${
        o.rx ?? 6
      }" fill="${fill}" stroke="${stroke}" stroke-width="1.3"${
        o.dash ? ` stroke-dasharray="5 3"` : ""
      }>${o.title ? `<title>${esc(o.title)}</title>` : ""}</rect>`,
    );
  const line = (
    pts: [number, number][],
    o: { arrow?: boolean; dash?: boolean; color?: string; width?: number } = {},
  ) =>
    out.push(
      `<polyline points="${
        pts.map(([x, y]) => `${f1(x)},${f1(y)}`).join(" ")
      }" fill="none" stroke="${o.color ?? COLORS.arrow}" stroke-width="${o.width ?? 1.4}"${
        o.dash ? ` stroke-dasharray="5 3"` : ""
      }${o.arrow === false ? "" : ` marker-end="url(#arrow)"`}/>`,
    );
  /** A box with a bold first line and a detail line, centred in a column. */
  const box = (
    col: { x: number; w: number },
    y: number,
    title: string,
    detail: string,
    kind: "conv" | "node" = "conv",
  ) => {
    const h = detail ? 42 : 28;
    rect(
      col.x,
      y,
      col.w,
      h,
      kind === "conv" ? COLORS.conv : COLORS.node,
      kind === "conv" ? COLORS.convLine : COLORS.nodeLine,
    );
    text(mid(col), y + (detail ? 17 : 18), title, { size: 13, anchor: "middle", weight: "bold" });
    if (detail) text(mid(col), y + 33, detail, { size: 11.5, anchor: "middle" });
    return { top: y, bottom: y + h, h };
  };

  // Title and the recursion.
  text(16, 26, `${p.name}: SVRNN, ${p.params.toLocaleString("en-US")} parameters`, {
    size: 16,
    weight: "bold",
  });
  text(
    16,
    46,
    "each scan, per channel along its direction: h[t] = (1 − g[t]) · x[t] + g[t] · h[t−1]",
    { size: 12, fill: COLORS.muted },
  );
  const headY = 72;
  text(mid(L), headY, "full resolution", { size: 12, anchor: "middle", fill: COLORS.muted });
  text(mid(M), headY, "half resolution", { size: 12, anchor: "middle", fill: COLORS.muted });
  text(mid(R), headY, "gate source", { size: 12, anchor: "middle", fill: COLORS.muted });

  // Encoder.
  let y = 84;
  const input = box(L, y, `input x`, `${c.channels} ch, H×W`, "node");
  y = input.bottom + 22;
  const e1 = box(L, y, "conve1_1", convDetail(p.e1, "LReLU"));
  line([[mid(L), input.bottom], [mid(L), e1.top - 1]]);
  y = e1.bottom + 18;
  const e2 = box(M, y, "conve1_2", convDetail(p.e2, ""));
  line([[mid(L), e1.bottom], [mid(L), e2.top + 21], [M.x - 1, e2.top + 21]]);
  text(mid(L) + 6, e1.bottom + 14, "e1", { size: 11, fill: COLORS.muted });

  // RNN blocks (inset to leave room on the left for the e2 skip line).
  const B = { x: M.x + 26, w: M.w - 26 };
  const skipX = M.x + 10;
  y = e2.bottom + 22;
  const blocks: { top: number; bottom: number }[] = [];
  const nd = p.directions.length;
  for (let k = 1; k <= c.numBlocks; k++) {
    const h = 104;
    rect(B.x, y, B.w, h, COLORS.block, COLORS.blockLine, { title: `RNN block ${k}` });
    text(B.x + 10, y + 18, `RNN block ${k}`, { size: 13, weight: "bold" });
    text(B.x + B.w - 10, y + 18, p.gateInput, { size: 11, anchor: "end", fill: COLORS.muted });
    const gap = 6, cx0 = B.x + 10, cw = (B.w - 20 - gap * (nd - 1)) / nd, cy = y + 28;
    p.directions.forEach((d, i) => {
      const x = cx0 + i * (cw + gap);
      rect(x, cy, cw, 44, COLORS.chip, COLORS.blockLine, { rx: 4, title: `scan ${d}` });
      text(x + cw / 2, cy + 15, d, { size: nd > 3 ? 10.5 : 11.5, anchor: "middle" });
      const ax = x + cw / 2, ay = cy + 30;
      if (d === "left-right") line([[ax - 18, ay], [ax + 16, ay]], { color: COLORS.blockLine });
      if (d === "right-left") line([[ax + 18, ay], [ax - 16, ay]], { color: COLORS.blockLine });
      if (d === "top-bottom") line([[ax, ay - 9], [ax, ay + 10]], { color: COLORS.blockLine });
      if (d === "bottom-top") line([[ax, ay + 10], [ax, ay - 9]], { color: COLORS.blockLine });
    });
    text(B.x + B.w / 2, y + h - 12, p.mergeLine(k), { size: 11, anchor: "middle" });
    const prev = blocks.length ? blocks[blocks.length - 1].bottom : e2.bottom;
    line([[B.x + B.w / 2, prev], [B.x + B.w / 2, y - 1]]);
    blocks.push({ top: y, bottom: y + h });
    y += h + 16;
  }
  if (c.numBlocks === 0) {
    text(B.x + B.w / 2 + 8, y + 12, "no RNN blocks: e2 goes straight on", {
      size: 11.5,
      fill: COLORS.muted,
    });
    text(mid(R), e2.top + 24, "none (no RNN blocks)", {
      size: 11.5,
      anchor: "middle",
      fill: COLORS.muted,
    });
    y += 26;
  }

  // Decoder.
  y += 4;
  const last = blocks.length ? blocks[blocks.length - 1].bottom : e2.bottom;
  const cat2 = box(
    M,
    y,
    `concat(e2, ${c.numBlocks ? `block ${c.numBlocks}` : "e2"})`,
    `${p.d1.inChannels} ch`,
    "node",
  );
  line([[B.x + B.w / 2, last], [B.x + B.w / 2, cat2.top - 1]]);
  // e2 skip: from conve1_2 down the left edge of the half-resolution column.
  line([[skipX, e2.bottom], [skipX, cat2.top - 1]], { color: COLORS.convLine });
  text(skipX + 4, e2.bottom + 14, "e2", { size: 11, fill: COLORS.muted });
  y = cat2.bottom + 20;
  const d1 = box(M, y, "convd1_1", convDetail(p.d1, "LReLU"));
  line([[mid(M), cat2.bottom], [mid(M), d1.top - 1]]);
  y = d1.bottom + 20;
  const upBox = box(M, y, `bilinear ×2`, `${c.resize}`, "node");
  line([[mid(M), d1.bottom], [mid(M), upBox.top - 1]]);
  y = upBox.bottom + 18;
  const cat1 = box(L, y, "concat(e1, ·)", `${p.d2.inChannels} ch`, "node");
  line([[mid(M), upBox.bottom], [mid(M), cat1.top + 21], [L.x + L.w + 1, cat1.top + 21]]);
  // e1 skip: from conve1_1 straight down the full-resolution column.
  line([[mid(L), e2.top + 21], [mid(L), cat1.top - 1]], { color: COLORS.convLine });
  y = cat1.bottom + 20;
  const d2 = box(L, y, "convd1_2", convDetail(p.d2, ""));
  line([[mid(L), cat1.bottom], [mid(L), d2.top - 1]]);
  y = d2.bottom + 20;
  let tail = d2.bottom;
  if (c.residual) {
    const res = box(L, y, "+ x", "global residual", "node");
    line([[mid(L), d2.bottom], [mid(L), res.top - 1]]);
    // The residual line: from the input down the left margin.
    line(
      [[L.x, input.top + 14], [10, input.top + 14], [10, res.top + 14], [L.x - 1, res.top + 14]],
      {
        dash: true,
      },
    );
    y = res.bottom + 20;
    tail = res.bottom;
  }
  const output = box(
    L,
    y,
    "output",
    `${c.channels} ch${c.residual ? "" : " (no residual)"}`,
    "node",
  );
  line([[mid(L), tail], [mid(L), output.top - 1]]);
  y = output.bottom;

  // Gate source.
  if (c.numBlocks > 0) {
    const top = c.gate === "variant" ? blocks[0].top - 10 : blocks[0].top;
    const lh = 15;
    const h = Math.max(28 + lh * (p.gateLines.length - 1) + 8, 60);
    const gy = Math.max(top, 84);
    rect(R.x, gy, R.w, h, COLORS.gate, COLORS.gateLine, { title: p.gateLines[0] });
    text(mid(R), gy + 18, p.gateLines[0], {
      size: p.gateLines[0].length > 24 ? 11.5 : 13,
      anchor: "middle",
      weight: "bold",
    });
    p.gateLines.slice(1).forEach((s, i) => {
      // A line starting with two spaces continues the previous one (indented).
      text(R.x + (s.startsWith("  ") ? 18 : 8), gy + 36 + i * lh, s.trim(), { size: 11 });
    });
    if (c.gate === "variant") {
      // The gate CNN reads the input image.
      line([[L.x + L.w, input.top + 14], [mid(R), input.top + 14], [mid(R), gy - 1]], {
        color: COLORS.gateLine,
      });
      text(mid(R) + 4, input.top + 10, "x", { size: 11, fill: COLORS.muted });
    }
    // Gates into every block.
    const gx = R.x + 14;
    blocks.forEach((b, i) => {
      const by = b.top + 56;
      const from: [number, number][] = by > gy + h
        ? [[gx, gy + h], [gx, by], [B.x + B.w + 1, by]]
        : [[R.x, by], [B.x + B.w + 1, by]];
      line(from, { color: COLORS.gateLine });
      text(B.x + B.w + 6, by - 4, `${i + 1}`, { size: 10, fill: COLORS.gateLine });
    });
  }

  const H = Math.ceil(y + 16);
  const width = opts.width ?? W;
  const height = Math.round(H * width / W);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${W} ${H}" ${FONT}>`,
    `<title>${esc(`${p.name}: SVRNN architecture`)}</title>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${COLORS.arrow}"/></marker></defs>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    ...out,
    `</svg>`,
  ].join("\n");
}

/**
 * The display bundle of the diagram: `image/svg+xml` (the drawing) and `text/plain` (the
 * same network as text, `architectureText`), for `display` in lib/viz/show.ts.
 */
export function architectureBundle(config: SVRNNConfig, opts: ArchitectureOptions = {}): Bundle {
  return {
    "image/svg+xml": architectureSvg(config, opts),
    "text/plain": architectureText(config, opts),
  };
}

/** Shows the diagram of `config` in the notebook (its text outside a kernel). */
export async function showArchitecture(
  config: SVRNNConfig,
  opts: ArchitectureOptions = {},
): Promise<void> {
  await display(architectureBundle(config, opts));
}
