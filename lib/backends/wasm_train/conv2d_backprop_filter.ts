/**
 * Conv2DBackpropFilter for the wasm backend (which ships none) as chunked GEMMs on XNNPACK.
 *
 * dW[i, j, c, o] = sum over p = (b, y, x) of xPadded[b, y*sh + i, x*sw + j, c] * dy[p, o],
 * i.e. dW = A^T dy with A the im2col matrix [P, kh*kw*cin]. The product runs as a 1x1
 * Conv2D (a plain GEMM in XNNPACK, about 37 GFLOP/s here, where BatchMatMul reaches 19
 * and drops to 2.5 with transposeA), with A^T [kh*kw*cin, Pc] as the "image" and a dy
 * chunk [Pc, cout] as the "filter"; the result [kh*kw*cin, cout] is the filter layout.
 *
 * A^T is built from x rearranged once to channels-first, zero-padded, stride-phase planes
 * [cin, b, sh, sw, rows, cols]: then every row of A^T is a run of contiguous copies, one
 * per output row, with no bounds checks. P is cut into chunks so A^T stays bounded.
 *
 * With few output channels a "folded" product is used instead (see useFolded).
 */
import * as tf from "@tensorflow/tfjs";
import {
  allocF32,
  assertFloat32,
  type BackendWasm,
  copyRun,
  disposeAll,
  f32Offset,
  heapF32,
  reshaped,
  runKernel,
} from "../../ops/wasm_heap.ts";

export interface Conv2DBackpropFilterAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
}

/** Most bytes of GEMM operands built per chunk, whatever the layer. */
const CHUNK_BYTES = 16 * 1024 * 1024;
/**
 * GEMM reduction length per chunk. Measured on the SVRNN shapes: 512 to 4096 run within
 * a few percent of each other, 8192 and the whole of P are 5-10% slower.
 */
const CHUNK_COLUMNS = 2048;
const FOLDED_CHUNK_COLUMNS = 1024;

/**
 * XNNPACK's GEMM tiles N by 8, so with few output channels the plain product wastes most
 * of each tile (cout 3: 37% used); folding the kernel columns into N fixes that, but needs
 * enough A^T rows (kh*cin) to amortise streaming the larger B. Measured at 128x128, batch
 * 4: 32->3 k5 24 ms folded vs 44 plain; 64->16 k9 106 vs 125; 3->16 k11 99 vs 38;
 * 128->128 k3 190 vs 180.
 */
function useFolded(info: tf.backend_util.Conv2DInfo): boolean {
  return info.outChannels <= 16 && info.filterHeight * info.inChannels >= 128;
}

export function conv2DBackpropFilterWasm(
  args: {
    inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
    backend: BackendWasm;
    attrs: Conv2DBackpropFilterAttrs;
  },
): tf.TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  assertFloat32("Conv2DBackpropFilter", { x, dy });
  if ((attrs.dataFormat ?? "NHWC") !== "NHWC") {
    throw new Error("Conv2DBackpropFilter (wasm): only dataFormat NHWC is supported");
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  const { batchSize: n, outHeight: oh, outWidth: ow, outChannels: co } = info;
  if (dy.shape[0] !== n || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new Error(
      `Conv2DBackpropFilter (wasm): dy shape ${dy.shape} does not match [${[n, oh, ow, co]}]`,
    );
  }
  const planes = phasePlanes(backend, x, info);
  try {
    return useFolded(info)
      ? foldedFilterGrad(backend, planes, dy, info)
      : plainFilterGrad(backend, planes, dy, info);
  } finally {
    backend.disposeData(planes.tensor.dataId);
  }
}

/** Output rows (b, y) per chunk, so that a chunk's GEMM operands stay bounded. */
function chunkRows(
  info: tf.backend_util.Conv2DInfo,
  floatsPerColumn: number,
  columnsPerRow: number,
  columns: number,
) {
  return Math.max(
    1,
    Math.min(
      info.batchSize * info.outHeight,
      Math.floor(CHUNK_BYTES / 4 / floatsPerColumn / columnsPerRow),
      Math.floor(columns / columnsPerRow),
    ),
  );
}

/** The GEMM [m, k] x [k, n] -> [m, n] as XNNPACK's 1x1 convolution. */
function gemm(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return runKernel(backend, "Conv2D", { x: a, filter: b }, {
    strides: 1,
    pad: "valid",
    dilations: 1,
    dataFormat: "NHWC",
  });
}

/** dW = A^T dy, chunk by chunk over P; the product is already in filter layout. */
function plainFilterGrad(
  backend: BackendWasm,
  planes: PhasePlanes,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { inChannels: ci, outWidth: ow, outChannels: co } = info;
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const kd = kh * kw * ci;
  const totalRows = info.batchSize * info.outHeight;
  const rowsPerChunk = chunkRows(info, kd + co, ow, CHUNK_COLUMNS);
  let acc: tf.TensorInfo | null = null;
  for (let r0 = 0; r0 < totalRows; r0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, totalRows - r0);
    const pc = rows * ow;
    const at = allocF32(backend, [1, 1, kd, pc]);
    const dyc = allocF32(backend, [1, 1, pc, co]);
    fillAT(backend, planes, at, info, r0, rows);
    const heap = heapF32(backend);
    const dy0 = f32Offset(backend, dy) + r0 * ow * co;
    heap.copyWithin(f32Offset(backend, dyc), dy0, dy0 + pc * co);
    const part = gemm(backend, at, dyc);
    disposeAll(backend, [at, dyc]);
    if (acc === null) {
      acc = part;
    } else {
      addInto(backend, acc, part, kd * co);
      backend.disposeData(part.dataId);
    }
  }
  return reshaped(acc!, [kh, kw, ci, co]);
}

/**
 * Folded variant: the kernel columns go to the GEMM's N side. For each column phase pc
 * (taps j = pc + dj*sw, dj < tw), A^T has rows (i, c) only and columns p' = (b, y, q)
 * over the plane's width, and B[p', (dj, o)] = dy[b, y, q - dj, o] (zero outside dy):
 * A^T shrinks kw-fold and N grows to tw*cout, at the cost of (ow+tw-1)/ow more columns.
 */
function foldedFilterGrad(
  backend: BackendWasm,
  planes: PhasePlanes,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { inChannels: ci, outWidth: ow, outChannels: co } = info;
  const [sw, kh, kw] = [info.strideWidth, info.filterHeight, info.filterWidth];
  const dw = allocF32(backend, [kh, kw, ci, co]);
  const w0 = f32Offset(backend, dw);
  heapF32(backend).fill(0, w0, w0 + kh * kw * ci * co);
  const m = kh * ci;
  const totalRows = info.batchSize * info.outHeight;
  for (let pc = 0; pc < sw && pc < kw; pc++) {
    const tw = Math.ceil((kw - pc) / sw);
    const wq = ow + tw - 1;
    const rowsPerChunk = chunkRows(info, m + tw * co, wq, FOLDED_CHUNK_COLUMNS);
    for (let r0 = 0; r0 < totalRows; r0 += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, totalRows - r0);
      const at = allocF32(backend, [1, 1, m, rows * wq]);
      const bm = allocF32(backend, [1, 1, rows * wq, tw * co]);
      fillFoldedAT(backend, planes, at, info, pc, wq, r0, rows);
      fillFoldedB(backend, dy, bm, info, tw, wq, r0, rows);
      const part = gemm(backend, at, bm);
      disposeAll(backend, [at, bm]);
      // part[(i, c), (dj, o)] adds into dW[i, pc + dj*sw, c, o].
      const heap = heapF32(backend);
      let s = f32Offset(backend, part);
      for (let i = 0; i < kh; i++) {
        for (let c = 0; c < ci; c++) {
          for (let dj = 0; dj < tw; dj++) {
            let t = w0 + ((i * kw + pc + dj * sw) * ci + c) * co;
            for (let o = 0; o < co; o++) heap[t++] += heap[s++];
          }
        }
      }
      backend.disposeData(part.dataId);
    }
  }
  return dw;
}

/** A^T for the folded product: rows (i, c), runs of wq plane columns per output row. */
function fillFoldedAT(
  backend: BackendWasm,
  planes: PhasePlanes,
  at: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  pc: number,
  wq: number,
  r0: number,
  rows: number,
): void {
  const { batchSize: n, inChannels: ci, outHeight: oh } = info;
  const [sh, sw, kh] = [info.strideHeight, info.strideWidth, info.filterHeight];
  const heap = heapF32(backend);
  const p0 = f32Offset(backend, planes.tensor);
  const planeSize = planes.rows * planes.cols;
  const channelStride = n * sh * sw * planeSize;
  let d = f32Offset(backend, at);
  for (let i = 0; i < kh; i++) {
    const phR = i % sh, di = Math.floor(i / sh);
    for (let c = 0; c < ci; c++) {
      for (let r = r0; r < r0 + rows; r++) {
        const b = Math.floor(r / oh), y = r - b * oh;
        const src = p0 + c * channelStride + ((b * sh + phR) * sw + pc) * planeSize +
          (y + di) * planes.cols;
        copyRun(heap, d, src, wq);
        d += wq;
      }
    }
  }
}

/** B for the folded product: row (b, y, q) holds dy[b, y, q - dj, :] for dj < tw. */
function fillFoldedB(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  bm: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  tw: number,
  wq: number,
  r0: number,
  rows: number,
): void {
  const { outWidth: ow, outChannels: co } = info;
  const heap = heapF32(backend);
  const dy0 = f32Offset(backend, dy);
  let e = f32Offset(backend, bm);
  for (let r = r0; r < r0 + rows; r++) {
    const rowBase = dy0 + r * ow * co;
    for (let q = 0; q < wq; q++) {
      for (let dj = 0; dj < tw; dj++, e += co) {
        const col = q - dj;
        if (col >= 0 && col < ow) copyRun(heap, e, rowBase + col * co, co);
        else for (let o = 0; o < co; o++) heap[e + o] = 0;
      }
    }
  }
}

/** x rearranged as zero-padded stride-phase planes; see the module comment. */
interface PhasePlanes {
  tensor: tf.TensorInfo;
  rows: number;
  cols: number;
}

/**
 * planes[c, b, phR, phC, r, q] = x[b, r*sh + phR - top, q*sw + phC - left, c], zero outside
 * x. Tap (i, j) of output (y, x) reads plane (i % sh, j % sw) at (y + i/sh, x + j/sw).
 */
function phasePlanes(
  backend: BackendWasm,
  x: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): PhasePlanes {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const rows = info.outHeight + Math.floor((info.filterHeight - 1) / sh);
  const cols = info.outWidth + Math.floor((info.filterWidth - 1) / sw);
  const planeSize = rows * cols;
  const size = ci * n * sh * sw * planeSize;
  const tensor = allocF32(backend, [size]);
  const heap = heapF32(backend);
  const p0 = f32Offset(backend, tensor);
  heap.fill(0, p0, p0 + size);
  const x0 = f32Offset(backend, x);
  const { top, left } = info.padInfo;
  const channelStride = n * sh * sw * planeSize;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const py = y + top;
      const r = Math.floor(py / sh);
      if (r >= rows || py < 0) continue;
      const rowBase = p0 + ((b * sh + (py - r * sh)) * sw) * planeSize + r * cols;
      for (let xx = 0; xx < w; xx++) {
        const px = xx + left;
        const q = Math.floor(px / sw);
        if (q >= cols || px < 0) continue;
        let d = rowBase + (px - q * sw) * planeSize + q;
        let s = x0 + ((b * h + y) * w + xx) * ci;
        for (let c = 0; c < ci; c++, d += channelStride) heap[d] = heap[s++];
      }
    }
  }
  return { tensor, rows, cols };
}

/** A^T rows (i, j, c), columns p = (b, y, x) for output rows r0 .. r0+rows of b*oh + y. */
function fillAT(
  backend: BackendWasm,
  planes: PhasePlanes,
  at: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  r0: number,
  rows: number,
): void {
  const { batchSize: n, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const [sh, sw, kh, kw] = [
    info.strideHeight,
    info.strideWidth,
    info.filterHeight,
    info.filterWidth,
  ];
  const heap = heapF32(backend);
  const p0 = f32Offset(backend, planes.tensor);
  const planeSize = planes.rows * planes.cols;
  const channelStride = n * sh * sw * planeSize;
  let d = f32Offset(backend, at);
  for (let i = 0; i < kh; i++) {
    const phR = i % sh, di = Math.floor(i / sh);
    for (let j = 0; j < kw; j++) {
      const phC = j % sw, dj = Math.floor(j / sw);
      for (let c = 0; c < ci; c++) {
        for (let r = r0; r < r0 + rows; r++) {
          const b = Math.floor(r / oh), y = r - b * oh;
          const s = p0 + c * channelStride + ((b * sh + phR) * sw + phC) * planeSize +
            (y + di) * planes.cols + dj;
          copyRun(heap, d, s, ow);
          d += ow;
        }
      }
    }
  }
}

function addInto(backend: BackendWasm, acc: tf.TensorInfo, part: tf.TensorInfo, size: number) {
  const heap = heapF32(backend);
  const a = f32Offset(backend, acc), p = f32Offset(backend, part);
  for (let k = 0; k < size; k++) heap[a + k] += heap[p + k];
}
