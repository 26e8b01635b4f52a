/**
 * oneDNN (libdnnl.so.2, its 2.x C API) through Deno's FFI: the engine, stream, memory
 * descriptors, convolution operation descriptors, primitive attributes with eltwise post-ops,
 * primitive descriptors, primitives, memory objects and reorders that dnnl_conv.ts builds its
 * convolutions from. Every dnnl_status_t is checked; a failure is an Error naming the call.
 *
 * The C structs (dnnl_memory_desc_t, dnnl_convolution_desc_t) are opaque here: they live in
 * byte buffers at least as large as oneDNN 2.6's header makes them (sizes read from
 * dnnl_types.h and confirmed by a sizeof probe compiled against it), and the few fields read
 * back (ndims, dims, format kind, the conv descriptor's kinds and accumulator type) are
 * checked where oneDNN fills them, so a library whose layout differs fails on the first call
 * instead of corrupting memory.
 *
 * Deno-only (Deno.dlopen); nothing outside lib/backends/native imports this file.
 */
import { InputError } from "../../data/errors.ts";
import { ffiDeno, libraryCandidates } from "./ffi.ts";

/** Thrown when oneDNN cannot be used; the message says how to install or allow it. */
export class DnnlUnavailableError extends InputError {
  override name = "DnnlUnavailableError";
}

export const DNNL_INSTALL_HINT =
  "install oneDNN with `sudo apt-get install -y libdnnl2` (Debian/Ubuntu; or " +
  "`deno task setup:native`) and run Deno with --allow-ffi (or -A); $SVRNN_DNNL may name the " +
  "library file";

/** Library names tried in order after $SVRNN_DNNL. */
export const DNNL_LIBRARY_CANDIDATES: readonly string[] = [
  "libdnnl.so.2",
  "/usr/lib/x86_64-linux-gnu/libdnnl.so.2",
  "/usr/lib/aarch64-linux-gnu/libdnnl.so.2",
  "/usr/local/lib/libdnnl.so.2",
  "libdnnl.2.dylib",
  "/opt/homebrew/opt/onednn/lib/libdnnl.2.dylib",
  "/usr/local/opt/onednn/lib/libdnnl.2.dylib",
];

// Sizes and offsets of oneDNN 2.6's structs (x86-64 and aarch64 LP64): dnnl_memory_desc_t is
// 696 bytes, dnnl_convolution_desc_t 5976, dnnl_exec_arg_t 16, dnnl_dims_t 12 int64s. The
// buffers are allocated with room to spare.
export const MEMORY_DESC_BYTES = 696;
export const CONV_DESC_BYTES = 5976;
const MD_ALLOC = 1024;
const CONV_DESC_ALLOC = 8192;
const EXEC_ARG_BYTES = 16;
const MAX_NDIMS = 12;
const MD_DIMS_OFFSET = 8;
const MD_FORMAT_KIND_OFFSET = 312;
// The descriptor's memory descriptors, in order: src, diff_src, weights, diff_weights, bias,
// diff_bias, dst, diff_dst.
const cdMd = (i: number) => 16 + i * MEMORY_DESC_BYTES;
const CD_MD = { src: cdMd(0), diffSrc: cdMd(1), dst: cdMd(6), diffDst: cdMd(7) };
const CD_ACCUM_OFFSET = 5968;

// Enum values of dnnl_types.h (2.6).
export const DT_F32 = 3;
export const TAG = { any: 1, x: 2, nhwc: 20, hwio: 30 } as const;
const FORMAT_KIND_ANY = 1;
const FORMAT_KIND_BLOCKED = 2;
const PRIMITIVE_CONVOLUTION = 5;
export const PROP = {
  forwardTraining: 64,
  forwardInference: 96,
  backwardData: 160,
  backwardWeights: 192,
} as const;
export const ALG = { convDirect: 1, convAuto: 3, eltwiseRelu: 0x1f } as const;
export const ARG = {
  src: 1,
  dst: 17,
  weights: 33,
  bias: 41,
  scratchpad: 80,
  diffSrc: 129,
  diffDst: 145,
  diffWeights: 161,
  diffBias: 169,
  from: 1,
  to: 17,
} as const;
export const QUERY = {
  implInfoStr: 8,
  srcMd: 129,
  diffSrcMd: 130,
  weightsMd: 131,
  diffWeightsMd: 132,
  dstMd: 133,
  diffDstMd: 134,
  scratchpadMd: 136,
} as const;
const ENGINE_CPU = 1;
const STREAM_DEFAULT_FLAGS = 1;
const SCRATCHPAD_USER = 1;

const STATUS_NAMES = [
  "success",
  "out_of_memory",
  "invalid_arguments",
  "unimplemented",
  "iterator_ends",
  "runtime_error",
  "not_required",
];

const SYMBOLS = {
  dnnl_version: { parameters: [], result: "pointer" },
  dnnl_engine_create: { parameters: ["buffer", "i32", "usize"], result: "i32" },
  dnnl_stream_create: { parameters: ["buffer", "pointer", "u32"], result: "i32" },
  dnnl_memory_desc_init_by_tag: {
    parameters: ["buffer", "i32", "buffer", "i32", "i32"],
    result: "i32",
  },
  dnnl_memory_desc_equal: { parameters: ["pointer", "pointer"], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: ["pointer"], result: "usize" },
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: [
      "buffer", // conv_desc
      "i32", // prop_kind
      "i32", // alg_kind
      "pointer", // src_desc
      "pointer", // weights_desc
      "pointer", // bias_desc (may be null)
      "pointer", // dst_desc
      "buffer", // strides
      "buffer", // dilates
      "buffer", // padding_l
      "buffer", // padding_r
    ],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_data_desc_init: {
    parameters: [
      "buffer", // conv_desc
      "i32", // alg_kind
      "pointer", // diff_src_desc
      "pointer", // weights_desc
      "pointer", // diff_dst_desc
      "buffer", // strides
      "buffer", // dilates
      "buffer", // padding_l
      "buffer", // padding_r
    ],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_weights_desc_init: {
    parameters: [
      "buffer", // conv_desc
      "i32", // alg_kind
      "pointer", // src_desc
      "pointer", // diff_weights_desc
      "pointer", // diff_bias_desc (may be null)
      "pointer", // diff_dst_desc
      "buffer", // strides
      "buffer", // dilates
      "buffer", // padding_l
      "buffer", // padding_r
    ],
    result: "i32",
  },
  dnnl_primitive_attr_create: { parameters: ["buffer"], result: "i32" },
  dnnl_primitive_attr_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_attr_set_scratchpad_mode: { parameters: ["pointer", "i32"], result: "i32" },
  dnnl_primitive_attr_set_post_ops: { parameters: ["pointer", "pointer"], result: "i32" },
  dnnl_post_ops_create: { parameters: ["buffer"], result: "i32" },
  dnnl_post_ops_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_post_ops_append_eltwise: {
    parameters: ["pointer", "f32", "i32", "f32", "f32"],
    result: "i32",
  },
  dnnl_primitive_desc_create: {
    parameters: ["buffer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_reorder_primitive_desc_create: {
    parameters: ["buffer", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_primitive_desc_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_desc_query: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  dnnl_primitive_desc_query_md: { parameters: ["pointer", "i32", "i32"], result: "pointer" },
  dnnl_primitive_create: { parameters: ["buffer", "pointer"], result: "i32" },
  dnnl_primitive_execute: { parameters: ["pointer", "pointer", "i32", "buffer"], result: "i32" },
  dnnl_primitive_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_memory_create: { parameters: ["buffer", "pointer", "pointer", "pointer"], result: "i32" },
  dnnl_memory_set_data_handle: { parameters: ["pointer", "buffer"], result: "i32" },
  dnnl_memory_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_stream_wait: { parameters: ["pointer"], result: "i32" },
} as const;

// oneDNN's Debian build runs on OpenMP (libgomp): its thread count is OpenMP's.
const GOMP_SYMBOLS = {
  omp_set_num_threads: { parameters: ["i32"], result: "void" },
  omp_get_max_threads: { parameters: [], result: "i32" },
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** A memory descriptor: our own buffer, or one owned by a primitive descriptor. */
export interface MemoryDesc {
  ptr: Deno.PointerValue;
  /** Keeps our own buffer alive while the descriptor is used. */
  buffer?: Uint8Array;
}

export interface EltwisePostOp {
  alg: number;
  alpha: number;
  beta?: number;
}

/** The opened library: handles and thin, checked wrappers over the C calls dnnl_conv.ts uses. */
export interface Dnnl {
  /** The library file opened, e.g. "libdnnl.so.2". */
  library: string;
  /** e.g. "2.6.3". */
  version: string;
  /** "omp", "tbb", "seq", "threadpool" or a number (dnnl_version()->cpu_runtime). */
  runtime: string;
  engine: Deno.PointerValue;
  stream: Deno.PointerValue;
  /** OpenMP's thread count, or null where oneDNN does not run on libgomp. */
  threads(): number | null;
  setThreads(n: number): void;
  /** A plain memory descriptor, f32, by format tag (TAG.any lets the primitive choose). */
  memoryDesc(dims: number[], tag: number): MemoryDesc;
  equal(a: MemoryDesc, b: MemoryDesc): boolean;
  /** Bytes a memory of this descriptor takes (0 for a zero descriptor). */
  size(md: MemoryDesc): number;
  convForwardDesc(
    prop: number,
    alg: number,
    src: MemoryDesc,
    weights: MemoryDesc,
    bias: MemoryDesc | null,
    dst: MemoryDesc,
    geometry: ConvDescGeometry,
  ): Uint8Array;
  convBackwardDataDesc(
    alg: number,
    diffSrc: MemoryDesc,
    weights: MemoryDesc,
    diffDst: MemoryDesc,
    geometry: ConvDescGeometry,
  ): Uint8Array;
  convBackwardWeightsDesc(
    alg: number,
    src: MemoryDesc,
    diffWeights: MemoryDesc,
    diffBias: MemoryDesc | null,
    diffDst: MemoryDesc,
    geometry: ConvDescGeometry,
  ): Uint8Array;
  /** Primitive attributes: a user-provided scratchpad, and eltwise post-ops in order. */
  attr(postOps: EltwisePostOp[]): Deno.PointerValue;
  destroyAttr(attr: Deno.PointerValue): void;
  primitiveDesc(
    opDesc: Uint8Array,
    attr: Deno.PointerValue,
    hint: Deno.PointerValue,
    what: string,
  ): Deno.PointerValue;
  reorderDesc(src: MemoryDesc, dst: MemoryDesc, attr: Deno.PointerValue): Deno.PointerValue;
  /** The descriptor a primitive descriptor chose for one of its memories (owned by pd). */
  queryMd(pd: Deno.PointerValue, what: number, index?: number): MemoryDesc;
  /** The implementation oneDNN picked, e.g. "brg:avx512_core" or "gemm:jit". */
  implInfo(pd: Deno.PointerValue): string;
  destroyPrimitiveDesc(pd: Deno.PointerValue): void;
  primitive(pd: Deno.PointerValue, what: string): Deno.PointerValue;
  destroyPrimitive(p: Deno.PointerValue): void;
  /** A memory object without a buffer: its data handle is set before each execution. */
  memory(md: MemoryDesc): Deno.PointerValue;
  setHandle(mem: Deno.PointerValue, data: ArrayBufferView): void;
  destroyMemory(mem: Deno.PointerValue): void;
  /** The <arg, memory> array dnnl_primitive_execute takes, built once per primitive. */
  execArgs(args: [number, Deno.PointerValue][]): Uint8Array;
  execute(p: Deno.PointerValue, args: Uint8Array, what: string): void;
}

/** Strides, dilations (tfjs's: 1 is none) and padding of a 2-D convolution. */
export interface ConvDescGeometry {
  strides: [number, number];
  dilations: [number, number];
  padL: [number, number];
  padR: [number, number];
}

let cached: Dnnl | null = null;
let failure: DnnlUnavailableError | null = null;

function check(status: number, call: string): void {
  if (status !== 0) {
    const name = STATUS_NAMES[status] ?? `status ${status}`;
    throw new Error(`oneDNN: ${call} failed: dnnl_${name}`);
  }
}

/** A pointer-sized out-parameter and its value after the call. */
function outPointer(): { buf: BigUint64Array; get(what: string): Deno.PointerValue } {
  const buf = new BigUint64Array(1);
  return {
    buf,
    get(what: string) {
      const p = Deno.UnsafePointer.create(buf[0]);
      if (p === null) throw new Error(`oneDNN: ${what} returned a null handle`);
      return p;
    },
  };
}

function dims(values: readonly number[]): BigInt64Array {
  const d = new BigInt64Array(MAX_NDIMS);
  values.forEach((v, i) => (d[i] = BigInt(v)));
  return d;
}

function ptrOf(buf: Uint8Array): Deno.PointerValue {
  return Deno.UnsafePointer.of(buf as Uint8Array<ArrayBuffer>);
}

/** Reads back what oneDNN wrote into a memory descriptor: a layout check of our buffer. */
function checkMemoryDesc(buf: Uint8Array, expect: number[], tag: number, call: string): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const ndims = view.getInt32(0, true);
  const got = expect.map((_, i) => Number(view.getBigInt64(MD_DIMS_OFFSET + 8 * i, true)));
  const kind = view.getInt32(MD_FORMAT_KIND_OFFSET, true);
  const wantKind = tag === TAG.any ? FORMAT_KIND_ANY : FORMAT_KIND_BLOCKED;
  if (ndims !== expect.length || got.some((v, i) => v !== expect[i]) || kind !== wantKind) {
    throw new Error(
      `oneDNN: ${call} wrote a dnnl_memory_desc_t this code does not understand ` +
        `(ndims ${ndims}, dims [${got}], format kind ${kind}; expected ${expect.length}, ` +
        `[${expect}], ${wantKind}): the library's struct layout differs from oneDNN 2.6's`,
    );
  }
}

/** Checks the kinds, the accumulator and the ndims of the two data descriptors a pass fills. */
function checkConvDesc(buf: Uint8Array, prop: number, call: string): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const kind = view.getInt32(0, true);
  const gotProp = view.getInt32(4, true);
  const [inMd, outMd] = prop === PROP.backwardData
    ? [CD_MD.diffSrc, CD_MD.diffDst]
    : prop === PROP.backwardWeights
    ? [CD_MD.src, CD_MD.diffDst]
    : [CD_MD.src, CD_MD.dst];
  const srcNdims = view.getInt32(inMd, true);
  const dstNdims = view.getInt32(outMd, true);
  const accum = view.getInt32(CD_ACCUM_OFFSET, true);
  if (
    kind !== PRIMITIVE_CONVOLUTION || gotProp !== prop || srcNdims !== 4 || dstNdims !== 4 ||
    accum !== DT_F32
  ) {
    throw new Error(
      `oneDNN: ${call} wrote a dnnl_convolution_desc_t this code does not understand ` +
        `(kind ${kind}, prop ${gotProp}, ndims ${srcNdims}/${dstNdims}, accumulator ${accum}): ` +
        `the library's struct layout differs from oneDNN 2.6's`,
    );
  }
}

function openGomp(deno: typeof Deno): Deno.DynamicLibrary<typeof GOMP_SYMBOLS> | null {
  for (const name of ["libgomp.so.1", "libgomp.so", "libgomp.1.dylib"]) {
    try {
      return deno.dlopen(name, GOMP_SYMBOLS);
    } catch {
      continue;
    }
  }
  return null;
}

function build(lib: Deno.DynamicLibrary<typeof SYMBOLS>, name: string, deno: typeof Deno): Dnnl {
  const s: Symbols = lib.symbols;
  const vp = s.dnnl_version();
  if (vp === null) throw new DnnlUnavailableError(`oneDNN: ${name}: dnnl_version() is null`);
  const v = new Deno.UnsafePointerView(vp);
  const [major, minor, patch] = [v.getInt32(0), v.getInt32(4), v.getInt32(8)];
  const rt = v.getUint32(24);
  const version = `${major}.${minor}.${patch}`;
  if (major !== 2) {
    // 3.x replaced the operation descriptors this file calls with other entry points.
    throw new DnnlUnavailableError(
      `oneDNN: ${name} is version ${version}; this kit uses the 2.x C API ` +
        `(Debian 12's libdnnl2); $SVRNN_DNNL may name a 2.x library`,
    );
  }
  const runtime = { 1: "seq", 2: "omp", 4: "tbb", 8: "threadpool" }[rt] ?? String(rt);
  const gomp = runtime === "omp" ? openGomp(deno) : null;

  const engineOut = outPointer();
  check(s.dnnl_engine_create(engineOut.buf, ENGINE_CPU, 0n), "dnnl_engine_create");
  const engine = engineOut.get("dnnl_engine_create");
  const streamOut = outPointer();
  check(s.dnnl_stream_create(streamOut.buf, engine, STREAM_DEFAULT_FLAGS), "dnnl_stream_create");
  const stream = streamOut.get("dnnl_stream_create");

  const strideDims = (g: ConvDescGeometry) => ({
    strides: dims(g.strides),
    // oneDNN counts dilation as the gap between taps: tfjs's 1 is its 0.
    dilates: dims(g.dilations.map((d) => d - 1)),
    padL: dims(g.padL),
    padR: dims(g.padR),
  });

  const dnnl: Dnnl = {
    library: name,
    version,
    runtime,
    engine,
    stream,
    threads: () => (gomp ? gomp.symbols.omp_get_max_threads() : null),
    setThreads: (n: number) => {
      if (!Number.isInteger(n) || n < 1) {
        throw new Error(`oneDNN: threads must be a positive integer, got ${n}`);
      }
      gomp?.symbols.omp_set_num_threads(n);
    },
    memoryDesc(d: number[], tag: number): MemoryDesc {
      const buffer = new Uint8Array(MD_ALLOC);
      check(
        s.dnnl_memory_desc_init_by_tag(buffer, d.length, dims(d), DT_F32, tag),
        `dnnl_memory_desc_init_by_tag([${d}], tag ${tag})`,
      );
      checkMemoryDesc(buffer, d, tag, "dnnl_memory_desc_init_by_tag");
      return { ptr: ptrOf(buffer), buffer };
    },
    equal: (a, b) => s.dnnl_memory_desc_equal(a.ptr, b.ptr) === 1,
    size: (md) => Number(s.dnnl_memory_desc_get_size(md.ptr)),
    convForwardDesc(prop, alg, src, weights, bias, dst, g) {
      const cd = new Uint8Array(CONV_DESC_ALLOC);
      const { strides, dilates, padL, padR } = strideDims(g);
      const call = "dnnl_dilated_convolution_forward_desc_init";
      check(
        s.dnnl_dilated_convolution_forward_desc_init(
          cd,
          prop,
          alg,
          src.ptr,
          weights.ptr,
          bias ? bias.ptr : null,
          dst.ptr,
          strides,
          dilates,
          padL,
          padR,
        ),
        call,
      );
      checkConvDesc(cd, prop, call);
      return cd;
    },
    convBackwardDataDesc(alg, diffSrc, weights, diffDst, g) {
      const cd = new Uint8Array(CONV_DESC_ALLOC);
      const { strides, dilates, padL, padR } = strideDims(g);
      const call = "dnnl_dilated_convolution_backward_data_desc_init";
      check(
        s.dnnl_dilated_convolution_backward_data_desc_init(
          cd,
          alg,
          diffSrc.ptr,
          weights.ptr,
          diffDst.ptr,
          strides,
          dilates,
          padL,
          padR,
        ),
        call,
      );
      checkConvDesc(cd, PROP.backwardData, call);
      return cd;
    },
    convBackwardWeightsDesc(alg, src, diffWeights, diffBias, diffDst, g) {
      const cd = new Uint8Array(CONV_DESC_ALLOC);
      const { strides, dilates, padL, padR } = strideDims(g);
      const call = "dnnl_dilated_convolution_backward_weights_desc_init";
      check(
        s.dnnl_dilated_convolution_backward_weights_desc_init(
          cd,
          alg,
          src.ptr,
          diffWeights.ptr,
          diffBias ? diffBias.ptr : null,
          diffDst.ptr,
          strides,
          dilates,
          padL,
          padR,
        ),
        call,
      );
      checkConvDesc(cd, PROP.backwardWeights, call);
      return cd;
    },
    attr(postOps) {
      const out = outPointer();
      check(s.dnnl_primitive_attr_create(out.buf), "dnnl_primitive_attr_create");
      const attr = out.get("dnnl_primitive_attr_create");
      try {
        // Our scratchpad, one buffer reused by every primitive: the library's own would be
        // allocated afresh at each execution (this build allows concurrent execution).
        check(
          s.dnnl_primitive_attr_set_scratchpad_mode(attr, SCRATCHPAD_USER),
          "dnnl_primitive_attr_set_scratchpad_mode",
        );
        if (postOps.length > 0) {
          const po = outPointer();
          check(s.dnnl_post_ops_create(po.buf), "dnnl_post_ops_create");
          const ops = po.get("dnnl_post_ops_create");
          try {
            for (const op of postOps) {
              check(
                s.dnnl_post_ops_append_eltwise(ops, 1, op.alg, op.alpha, op.beta ?? 0),
                `dnnl_post_ops_append_eltwise(alg ${op.alg}, alpha ${op.alpha})`,
              );
            }
            check(
              s.dnnl_primitive_attr_set_post_ops(attr, ops),
              "dnnl_primitive_attr_set_post_ops",
            );
          } finally {
            s.dnnl_post_ops_destroy(ops); // the attribute keeps its own copy
          }
        }
      } catch (e) {
        s.dnnl_primitive_attr_destroy(attr);
        throw e;
      }
      return attr;
    },
    destroyAttr(attr) {
      check(s.dnnl_primitive_attr_destroy(attr), "dnnl_primitive_attr_destroy");
    },
    primitiveDesc(opDesc, attr, hint, what) {
      const out = outPointer();
      check(
        s.dnnl_primitive_desc_create(out.buf, ptrOf(opDesc), attr, engine, hint),
        `dnnl_primitive_desc_create (${what})`,
      );
      return out.get("dnnl_primitive_desc_create");
    },
    reorderDesc(src, dst, attr) {
      const out = outPointer();
      check(
        s.dnnl_reorder_primitive_desc_create(out.buf, src.ptr, engine, dst.ptr, engine, attr),
        "dnnl_reorder_primitive_desc_create",
      );
      return out.get("dnnl_reorder_primitive_desc_create");
    },
    queryMd(pd, what, index = 0) {
      const p = s.dnnl_primitive_desc_query_md(pd, what, index);
      if (p === null) throw new Error(`oneDNN: dnnl_primitive_desc_query_md(${what}) failed`);
      return { ptr: p };
    },
    implInfo(pd) {
      const out = new BigUint64Array(1);
      check(
        s.dnnl_primitive_desc_query(pd, QUERY.implInfoStr, 0, out),
        "dnnl_primitive_desc_query(impl_info_str)",
      );
      const p = Deno.UnsafePointer.create(out[0]);
      return p === null ? "" : Deno.UnsafePointerView.getCString(p);
    },
    destroyPrimitiveDesc(pd) {
      check(s.dnnl_primitive_desc_destroy(pd), "dnnl_primitive_desc_destroy");
    },
    primitive(pd, what) {
      const out = outPointer();
      check(s.dnnl_primitive_create(out.buf, pd), `dnnl_primitive_create (${what})`);
      return out.get("dnnl_primitive_create");
    },
    destroyPrimitive(p) {
      check(s.dnnl_primitive_destroy(p), "dnnl_primitive_destroy");
    },
    memory(md) {
      const out = outPointer();
      check(s.dnnl_memory_create(out.buf, md.ptr, engine, null), "dnnl_memory_create");
      return out.get("dnnl_memory_create");
    },
    setHandle(mem, data) {
      check(
        s.dnnl_memory_set_data_handle(mem, data as Uint8Array<ArrayBuffer>),
        "dnnl_memory_set_data_handle",
      );
    },
    destroyMemory(mem) {
      check(s.dnnl_memory_destroy(mem), "dnnl_memory_destroy");
    },
    execArgs(args) {
      const buf = new Uint8Array(args.length * EXEC_ARG_BYTES);
      const view = new DataView(buf.buffer);
      args.forEach(([arg, mem], i) => {
        view.setInt32(i * EXEC_ARG_BYTES, arg, true);
        view.setBigUint64(i * EXEC_ARG_BYTES + 8, BigInt(Deno.UnsafePointer.value(mem)), true);
      });
      return buf;
    },
    execute(p, args, what) {
      check(
        s.dnnl_primitive_execute(p, stream, args.length / EXEC_ARG_BYTES, args),
        `dnnl_primitive_execute (${what})`,
      );
    },
  };
  return dnnl;
}

/**
 * Opens oneDNN once per process and creates its CPU engine and stream. Throws
 * DnnlUnavailableError, naming what was tried and how to install it, when no library can be
 * opened, FFI is not permitted or the library is not a 2.x one.
 */
export function loadDnnl(): Dnnl {
  if (cached) return cached;
  if (failure) throw failure;
  const deno = ffiDeno("oneDNN", (m) => new DnnlUnavailableError(m));
  const tried: string[] = [];
  for (const name of libraryCandidates(deno, "SVRNN_DNNL", DNNL_LIBRARY_CANDIDATES)) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = deno.dlopen(name, SYMBOLS);
    } catch (e) {
      const err = e as Error;
      if (err.name === "NotCapable" || err.name === "PermissionDenied") {
        throw new DnnlUnavailableError(
          `oneDNN: FFI is not permitted (${err.message.split("\n")[0]}); ` +
            `run Deno with --allow-ffi (or -A)`,
        );
      }
      tried.push(`${name} (${err.message.replace(/^(Could not open library: )+/, "")})`);
      continue;
    }
    try {
      cached = build(lib, name, deno);
    } catch (e) {
      lib.close();
      if (e instanceof DnnlUnavailableError) failure = e;
      throw e;
    }
    return cached;
  }
  failure = new DnnlUnavailableError(
    `oneDNN: cannot open libdnnl; tried ${tried.join("; ")}. To use it, ${DNNL_INSTALL_HINT}`,
  );
  throw failure;
}

/** True when oneDNN can be opened here (the reason is discarded). */
export function dnnlAvailable(): boolean {
  try {
    loadDnnl();
    return true;
  } catch (e) {
    if (e instanceof DnnlUnavailableError) return false;
    throw e;
  }
}

/** The oneDNN already opened by loadDnnl, or null. */
export function loadedDnnl(): Dnnl | null {
  return cached;
}
