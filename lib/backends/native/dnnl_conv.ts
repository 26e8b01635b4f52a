/**
 * 2-D convolution and both of its gradients on oneDNN (dnnl.ts), with conv.ts's signatures
 * and semantics: NHWC activations, tfjs's [kh, kw, in, out] filters (oneDNN's tag hwio), the
 * geometry of conv.ts's ConvGeometry, results overwritten. lib/backends/native/kernels.ts
 * picks this or conv.ts's OpenBLAS path per shape and pass from a measured table
 * (results/bench/dnnl_conv.json, `choosePath` below).
 *
 * Building a oneDNN primitive costs far more than running one on a small map, so every
 * (pass, geometry, post-ops, layout, threads) gets its primitives once and keeps them for the
 * life of the process (`Plan`); a call only points the plan's memory objects at this call's
 * arrays and executes. Three layouts are tried by the benchmark:
 *   "plain":   the user's layouts everywhere (nhwc, hwio): no reorder at all;
 *   "weights": nhwc data, the filter in whatever blocked layout the primitive prefers
 *              (reordered from hwio at every call: the weights change at every step);
 *   "any":     every tensor in the primitive's preferred layout, reordered in and out.
 * Reorders are part of each call, so their cost is part of every measured time.
 */
import {
  ALG,
  ARG,
  type ConvDescGeometry,
  type Dnnl,
  type EltwisePostOp,
  loadDnnl,
  type MemoryDesc,
  PROP,
  QUERY,
  TAG,
} from "./dnnl.ts";
import { applyEpilogue, checkSizes, type ConvGeometry, type Epilogue } from "./conv.ts";

export type DnnlLayout = "plain" | "weights" | "any";
export const DNNL_LAYOUTS: readonly DnnlLayout[] = ["plain", "weights", "any"];

export type ConvPass = "forward" | "input" | "filter";

export interface DnnlConvOptions {
  /** Default "weights". */
  layout?: DnnlLayout;
  /** OpenMP threads for oneDNN (default: its current count). */
  threads?: number;
  /** The library (default loadDnnl()). */
  dnnl?: Dnnl;
  /**
   * Throw instead of running oneDNN's reference implementation ("ref:any", plain loops: one
   * 9x9 64->16 conv at 128x128 took 37 s in it against 19 ms blocked).
   */
  rejectReference?: boolean;
}

/**
 * Whether oneDNN can run this geometry: positive sizes, non-negative leading padding (tfjs
 * never makes it negative; conv.ts allows it), stride and dilation >= 1.
 */
export function dnnlSupports(g: ConvGeometry): boolean {
  const sizes = [g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW];
  return sizes.every((v) => Number.isInteger(v) && v > 0) &&
    g.strideH >= 1 && g.strideW >= 1 && g.dilH >= 1 && g.dilW >= 1 &&
    g.padTop >= 0 && g.padLeft >= 0 && trailingPad(g) !== null;
}

/**
 * oneDNN wants the padding after the last row and column too; tfjs's may leave input rows
 * unread (stride 2 on an odd extent), so it is the smallest non-negative value that gives
 * the same output size under oneDNN's floor division.
 */
function trailingPad(g: ConvGeometry): [number, number] | null {
  const one = (inn: number, out: number, k: number, s: number, d: number, pl: number) => {
    const need = (out - 1) * s + (k - 1) * d + 1 - inn - pl;
    const pr = Math.max(0, need);
    return Math.floor((inn + pl + pr - ((k - 1) * d + 1)) / s) + 1 === out ? pr : null;
  };
  const b = one(g.inH, g.outH, g.kH, g.strideH, g.dilH, g.padTop);
  const r = one(g.inW, g.outW, g.kW, g.strideW, g.dilW, g.padLeft);
  return b === null || r === null ? null : [b, r];
}

function descGeometry(g: ConvGeometry): ConvDescGeometry {
  const pr = trailingPad(g);
  if (!pr) throw new Error(`oneDNN conv: unsupported geometry ${JSON.stringify(g)}`);
  return {
    strides: [g.strideH, g.strideW],
    dilations: [g.dilH, g.dilW],
    padL: [g.padTop, g.padLeft],
    padR: pr,
  };
}

// ---------------------------------------------------------------------------------------
// Scratch: intermediate tensors in blocked layouts and oneDNN's scratchpads, one buffer per
// role shared by every plan (calls run one at a time), grown as needed. Fresh multi-megabyte
// arrays per call would cost page faults (docs/backends.md, buffer reuse).

const scratchPool = new Map<string, Float32Array>();

function scratch(role: string, bytes: number): Float32Array {
  const n = Math.max(1, Math.ceil(bytes / 4));
  let buf = scratchPool.get(role);
  if (!buf || buf.length < n) {
    buf = new Float32Array(n);
    scratchPool.set(role, buf);
  }
  return buf;
}

/** Drops the scratch buffers (plans stay cached). */
export function releaseDnnlScratch(): void {
  scratchPool.clear();
}

// ---------------------------------------------------------------------------------------
// Plans: the primitives of one (pass, geometry, ...) and the memories they run on.

/** What a call supplies, by role: the user's arrays; scratch roles are filled in. */
type CallArrays = Record<string, Float32Array>;

interface Step {
  prim: Deno.PointerValue;
  args: Uint8Array;
  what: string;
}

interface Binding {
  mem: Deno.PointerValue;
  role: string;
}

export interface Plan {
  key: string;
  steps: Step[];
  bindings: Binding[];
  /** Bytes of each scratch role. */
  scratchBytes: Map<string, number>;
  /** oneDNN's implementation of the convolution primitive, e.g. "brg:avx512_core". */
  impl: string;
  /** Reorders each call runs (0 for "plain"). */
  reorders: number;
}

class PlanBuilder {
  steps: Step[] = [];
  after: Step[] = [];
  bindings: Binding[] = [];
  scratchBytes = new Map<string, number>();
  reorders = 0;
  constructor(readonly d: Dnnl) {}

  memory(md: MemoryDesc, role: string): Deno.PointerValue {
    const mem = this.d.memory(md);
    this.bindings.push({ mem, role });
    return mem;
  }

  scratchMemory(md: MemoryDesc, role: string): Deno.PointerValue {
    this.scratchBytes.set(role, Math.max(this.scratchBytes.get(role) ?? 0, this.d.size(md)));
    return this.memory(md, role);
  }

  reorder(from: MemoryDesc, fromMem: Deno.PointerValue, to: MemoryDesc, toMem: Deno.PointerValue) {
    const pd = this.d.reorderDesc(from, to, null);
    const prim = this.d.primitive(pd, "reorder");
    this.reorders++;
    return { prim, args: this.d.execArgs([[ARG.from, fromMem], [ARG.to, toMem]]), what: "reorder" };
  }

  /** A memory in the primitive's layout for an input, reordered from the user's if needed. */
  input(user: MemoryDesc, chosen: MemoryDesc, role: string): Deno.PointerValue {
    const userMem = this.memory(user, role);
    if (this.d.equal(user, chosen)) return userMem;
    const mem = this.scratchMemory(chosen, `${role}:blocked`);
    this.steps.push(this.reorder(user, userMem, chosen, mem));
    return mem;
  }

  /** The same for an output, reordered to the user's layout after the primitive ran. */
  output(user: MemoryDesc, chosen: MemoryDesc, role: string): Deno.PointerValue {
    const userMem = this.memory(user, role);
    if (this.d.equal(user, chosen)) return userMem;
    const mem = this.scratchMemory(chosen, `${role}:blocked`);
    this.after.push(this.reorder(chosen, mem, user, userMem));
    return mem;
  }

  /** The primitive itself, with its scratchpad; input reorders before it, outputs after. */
  main(pd: Deno.PointerValue, args: [number, Deno.PointerValue][], what: string): Plan {
    const pad = this.d.queryMd(pd, QUERY.scratchpadMd);
    if (this.d.size(pad) > 0) args.push([ARG.scratchpad, this.scratchMemory(pad, "scratchpad")]);
    const prim = this.d.primitive(pd, what);
    this.steps.push({ prim, args: this.d.execArgs(args), what }, ...this.after);
    return {
      key: "",
      steps: this.steps,
      bindings: this.bindings,
      scratchBytes: this.scratchBytes,
      impl: this.d.implInfo(pd),
      reorders: this.reorders,
    };
  }
}

const plans = new Map<string, Plan>();
let last: Plan | null = null;

/** Plans built so far. */
export function cachedPlans(): ReadonlyMap<string, Plan> {
  return plans;
}

/** The plan of the latest call (the benchmark reports its implementation). */
export function lastPlan(): Plan | null {
  return last;
}

function tags(layout: DnnlLayout): { data: number; weights: number } {
  if (layout === "plain") return { data: TAG.nhwc, weights: TAG.hwio };
  if (layout === "weights") return { data: TAG.nhwc, weights: TAG.any };
  return { data: TAG.any, weights: TAG.any };
}

interface Dims {
  src: number[];
  weights: number[];
  dst: number[];
}

function dimsOf(g: ConvGeometry): Dims {
  return {
    src: [g.batch, g.inC, g.inH, g.inW],
    weights: [g.outC, g.inC, g.kH, g.kW],
    dst: [g.batch, g.outC, g.outH, g.outW],
  };
}

/** User (nhwc, hwio) and primitive-side (by layout) descriptors of the three tensors. */
function descs(d: Dnnl, g: ConvGeometry, layout: DnnlLayout) {
  const dm = dimsOf(g), t = tags(layout);
  return {
    user: {
      src: d.memoryDesc(dm.src, TAG.nhwc),
      weights: d.memoryDesc(dm.weights, TAG.hwio),
      dst: d.memoryDesc(dm.dst, TAG.nhwc),
    },
    op: {
      src: d.memoryDesc(dm.src, t.data),
      weights: d.memoryDesc(dm.weights, t.weights),
      dst: d.memoryDesc(dm.dst, t.data),
    },
  };
}

/** The forward primitive descriptor a backward one needs as its hint. */
function forwardHint(d: Dnnl, g: ConvGeometry, layout: DnnlLayout, bias: boolean) {
  const { op } = descs(d, g, layout);
  const b = bias ? d.memoryDesc([g.outC], TAG.x) : null;
  const cd = d.convForwardDesc(
    PROP.forwardTraining,
    ALG.convDirect,
    op.src,
    op.weights,
    b,
    op.dst,
    descGeometry(g),
  );
  return d.primitiveDesc(cd, null, null, "convolution forward (hint)");
}

function forwardPlan(
  d: Dnnl,
  g: ConvGeometry,
  layout: DnnlLayout,
  bias: boolean,
  postOps: EltwisePostOp[],
): Plan {
  const { user, op } = descs(d, g, layout);
  const b = bias ? d.memoryDesc([g.outC], TAG.x) : null;
  const cd = d.convForwardDesc(
    PROP.forwardInference,
    ALG.convDirect,
    op.src,
    op.weights,
    b,
    op.dst,
    descGeometry(g),
  );
  const attr = d.attr(postOps);
  let pd: Deno.PointerValue;
  try {
    pd = d.primitiveDesc(cd, attr, null, "convolution forward");
  } finally {
    d.destroyAttr(attr);
  }
  const p = new PlanBuilder(d);
  const src = p.input(user.src, d.queryMd(pd, QUERY.srcMd), "x");
  const w = p.input(user.weights, d.queryMd(pd, QUERY.weightsMd), "w");
  const dst = p.output(user.dst, d.queryMd(pd, QUERY.dstMd), "y");
  const args: [number, Deno.PointerValue][] = [[ARG.src, src], [ARG.weights, w], [ARG.dst, dst]];
  if (b) args.push([ARG.bias, p.memory(b, "bias")]);
  return p.main(pd, args, "convolution forward");
}

function backwardDataPlan(d: Dnnl, g: ConvGeometry, layout: DnnlLayout): Plan {
  const { user, op } = descs(d, g, layout);
  const hint = forwardHint(d, g, layout, false);
  const cd = d.convBackwardDataDesc(ALG.convDirect, op.src, op.weights, op.dst, descGeometry(g));
  const attr = d.attr([]);
  let pd: Deno.PointerValue;
  try {
    pd = d.primitiveDesc(cd, attr, hint, "convolution backward data");
  } finally {
    d.destroyAttr(attr);
  }
  const p = new PlanBuilder(d);
  const dy = p.input(user.dst, d.queryMd(pd, QUERY.diffDstMd), "dy");
  const w = p.input(user.weights, d.queryMd(pd, QUERY.weightsMd), "w");
  const dx = p.output(user.src, d.queryMd(pd, QUERY.diffSrcMd), "dx");
  return p.main(
    pd,
    [[ARG.diffDst, dy], [ARG.weights, w], [ARG.diffSrc, dx]],
    "convolution backward data",
  );
}

function backwardWeightsPlan(d: Dnnl, g: ConvGeometry, layout: DnnlLayout, bias: boolean): Plan {
  const { user, op } = descs(d, g, layout);
  const hint = forwardHint(d, g, layout, bias);
  const db = bias ? d.memoryDesc([g.outC], TAG.x) : null;
  const cd = d.convBackwardWeightsDesc(
    ALG.convDirect,
    op.src,
    op.weights,
    db,
    op.dst,
    descGeometry(g),
  );
  const attr = d.attr([]);
  let pd: Deno.PointerValue;
  try {
    pd = d.primitiveDesc(cd, attr, hint, "convolution backward weights");
  } finally {
    d.destroyAttr(attr);
  }
  const p = new PlanBuilder(d);
  const x = p.input(user.src, d.queryMd(pd, QUERY.srcMd), "x");
  const dy = p.input(user.dst, d.queryMd(pd, QUERY.diffDstMd), "dy");
  const dw = p.output(user.weights, d.queryMd(pd, QUERY.diffWeightsMd), "dw");
  const args: [number, Deno.PointerValue][] = [[ARG.src, x], [ARG.diffDst, dy], [
    ARG.diffWeights,
    dw,
  ]];
  if (db) args.push([ARG.diffBias, p.memory(db, "db")]);
  return p.main(pd, args, "convolution backward weights");
}

function geometryKey(g: ConvGeometry): string {
  return [
    g.batch,
    g.inH,
    g.inW,
    g.inC,
    g.outH,
    g.outW,
    g.outC,
    g.kH,
    g.kW,
    g.strideH,
    g.strideW,
    g.dilH,
    g.dilW,
    g.padTop,
    g.padLeft,
  ].join(",");
}

function setup(opts: DnnlConvOptions): { d: Dnnl; layout: DnnlLayout; threads: number | null } {
  const d = opts.dnnl ?? loadDnnl();
  if (opts.threads !== undefined && d.threads() !== opts.threads) d.setThreads(opts.threads);
  return { d, layout: opts.layout ?? "weights", threads: d.threads() };
}

function plan(key: string, build: () => Plan, opts: DnnlConvOptions): Plan {
  let p = plans.get(key);
  if (!p) {
    p = build();
    p.key = key;
    plans.set(key, p);
  }
  if (opts.rejectReference && p.impl.startsWith("ref")) {
    throw new Error(`oneDNN conv: only its reference implementation (${p.impl}) runs ${key}`);
  }
  return p;
}

function run(d: Dnnl, p: Plan, arrays: CallArrays): void {
  last = p;
  for (const [role, bytes] of p.scratchBytes) arrays[role] = scratch(role, bytes);
  for (const b of p.bindings) {
    const a = arrays[b.role];
    if (!a) throw new Error(`oneDNN conv: no array for ${b.role} (${p.key})`);
    d.setHandle(b.mem, a);
  }
  for (const s of p.steps) d.execute(s.prim, s.args, s.what);
}

/** conv.ts's buffer check, and the shapes oneDNN takes. */
function checkDnnl(g: ConvGeometry, x: number, w: number, y: number, what: string): void {
  checkSizes(g, x, w, y, `oneDNN ${what}`);
  if (!dnnlSupports(g)) {
    throw new Error(`oneDNN ${what}: unsupported geometry ${JSON.stringify(g)}`);
  }
}

/** The activations oneDNN applies as a post-op; the rest go to conv.ts's epilogue. */
function postOpsOf(ep: Epilogue | null): EltwisePostOp[] | null {
  if (!ep || ep.activation === "linear") return [];
  if (ep.activation === "relu") return [{ alg: ALG.eltwiseRelu, alpha: 0 }];
  // oneDNN's relu with a negative slope alpha is leaky ReLU.
  if (ep.activation === "leakyrelu") return [{ alg: ALG.eltwiseRelu, alpha: ep.alpha }];
  return null;
}

// ---------------------------------------------------------------------------------------
// Public entry points (conv.ts's semantics).

/** y = act(conv(x, w) + bias). y must hold batch*outH*outW*outC floats. */
export function convForward(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  y: Float32Array,
  ep: Epilogue | null,
  opts: DnnlConvOptions = {},
): void {
  checkDnnl(g, x.length, w.length, y.length, "conv2d");
  const { d, layout, threads } = setup(opts);
  const fused = postOpsOf(ep);
  const postOps = fused ?? [];
  let bias = ep?.bias ?? null;
  if (bias && bias.length !== g.outC) {
    // A scalar bias, broadcast: oneDNN's bias is one value per output channel.
    const full = scratch("bias:full", 4 * g.outC).subarray(0, g.outC);
    full.fill(bias[0]);
    bias = full;
  }
  const post = postOps.map((o) => `${o.alg}:${o.alpha}`).join("+");
  const key = `forward|${geometryKey(g)}|${layout}|${bias ? "bias" : ""}|${post}|${threads}`;
  const p = plan(key, () => forwardPlan(d, g, layout, bias !== null, postOps), opts);
  const arrays: CallArrays = { x, w, y };
  if (bias) arrays.bias = bias;
  run(d, p, arrays);
  if (ep && fused === null) {
    const rest: Epilogue = { ...ep, bias: null };
    applyEpilogue(y, 0, y, 0, g.batch * g.outH * g.outW, g.outC, rest);
  }
}

/**
 * dx = the gradient of conv(x, w) with respect to x, for upstream gradient dy
 * ([batch, outH, outW, outC]); dx is overwritten ([batch, inH, inW, inC]).
 */
export function convBackpropInput(
  g: ConvGeometry,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array,
  opts: DnnlConvOptions = {},
): void {
  checkDnnl(g, dx.length, w.length, dy.length, "conv2dBackpropInput");
  const { d, layout, threads } = setup(opts);
  const key = `input|${geometryKey(g)}|${layout}|${threads}`;
  const p = plan(key, () => backwardDataPlan(d, g, layout), opts);
  run(d, p, { dy, w, dx });
}

/**
 * dw = the gradient of conv(x, w) with respect to w ([kH, kW, inC, outC], overwritten), for
 * input x and upstream gradient dy; with `db`, the bias gradient (dy summed per channel) too,
 * computed in the same pass.
 */
export function convBackpropFilter(
  g: ConvGeometry,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  opts: DnnlConvOptions = {},
  db: Float32Array | null = null,
): void {
  checkDnnl(g, x.length, dw.length, dy.length, "conv2dBackpropFilter");
  if (db && db.length < g.outC) {
    throw new Error(`oneDNN conv2dBackpropFilter: db holds ${db.length} < ${g.outC} floats`);
  }
  const { d, layout, threads } = setup(opts);
  const key = `filter|${geometryKey(g)}|${layout}|${db ? "bias" : ""}|${threads}`;
  const p = plan(key, () => backwardWeightsPlan(d, g, layout, db !== null), opts);
  const arrays: CallArrays = { x, dy, dw };
  if (db) arrays.db = db;
  run(d, p, arrays);
}

// ---------------------------------------------------------------------------------------
// The per-shape choice, from the measured table.

/** One measured row of results/bench/dnnl_conv.json, as far as the choice needs it. */
export interface ChoiceRow {
  pass: ConvPass;
  geometry: ConvGeometry;
  threads: number;
  /** "openblas", or "dnnl" with its layout. */
  choice: "openblas" | "dnnl";
  layout: DnnlLayout | null;
}

/** The layer a row measured, without its batch and spatial size. */
export function layerSignature(g: ConvGeometry): string {
  return `${g.kH}x${g.kW}/${g.strideH}x${g.strideW}/d${g.dilH}x${g.dilW} ${g.inC}->${g.outC}`;
}

/** Output pixels of a pass (batch x outH x outW): the size a row was measured at. */
export function outputPixels(g: ConvGeometry): number {
  return g.batch * g.outH * g.outW;
}

/** A measurement speaks for sizes up to this factor away from its own, no further. */
export const CHOICE_SIZE_FACTOR = 4;

/**
 * The rule kernels.ts applies, derived from the committed table: for a pass of a layer (kernel,
 * stride, dilation, channels) at some thread count, take the table's row for the same pass,
 * layer and threads whose output pixel count is nearest on a log scale, if it is within
 * CHOICE_SIZE_FACTOR; use oneDNN (in that row's layout) when that row chose it, OpenBLAS
 * otherwise, and OpenBLAS for any layer the table never measured.
 */
export class ConvChoices {
  private byLayer = new Map<string, ChoiceRow[]>();
  constructor(readonly rows: readonly ChoiceRow[]) {
    for (const r of rows) {
      const k = `${r.pass} ${layerSignature(r.geometry)} t${r.threads}`;
      const list = this.byLayer.get(k) ?? [];
      list.push(r);
      this.byLayer.set(k, list);
    }
  }

  /** The layout to run on oneDNN, or null for OpenBLAS. */
  choose(g: ConvGeometry, pass: ConvPass, threads: number): DnnlLayout | null {
    const list = this.byLayer.get(`${pass} ${layerSignature(g)} t${threads}`);
    if (!list || !dnnlSupports(g)) return null;
    const px = Math.log(outputPixels(g));
    let best: ChoiceRow | null = null, bestD = Infinity;
    for (const r of list) {
      const dist = Math.abs(Math.log(outputPixels(r.geometry)) - px);
      if (dist < bestD) [best, bestD] = [r, dist];
    }
    if (!best || bestD > Math.log(CHOICE_SIZE_FACTOR)) return null;
    return best.choice === "dnnl" ? best.layout : null;
  }
}

export const CHOICE_TABLE_URL = new URL("../../../results/bench/dnnl_conv.json", import.meta.url);

/** The committed table's choices; an empty set (OpenBLAS everywhere) when it cannot be read. */
export function loadChoices(url: URL = CHOICE_TABLE_URL): ConvChoices {
  let text: string;
  try {
    text = Deno.readTextFileSync(url);
  } catch {
    return new ConvChoices([]);
  }
  const file = JSON.parse(text) as { records?: ChoiceRow[] };
  const rows = (file.records ?? []).filter((r) =>
    r && typeof r.pass === "string" && r.geometry && typeof r.threads === "number" &&
    (r.choice === "openblas" || (r.choice === "dnnl" && DNNL_LAYOUTS.includes(r.layout!)))
  );
  return new ConvChoices(rows);
}
