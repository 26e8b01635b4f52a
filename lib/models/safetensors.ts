/**
 * A small, strict reader and writer of the safetensors format (huggingface/safetensors),
 * on bytes only (browser-safe):
 *
 *   8 bytes   N, unsigned 64-bit little-endian: the header's length
 *   N bytes   UTF-8 JSON: { "__metadata__": {string: string}?,
 *                           name: { "dtype": "F32", "shape": [..], "data_offsets": [b, e] } }
 *             (may be padded with trailing spaces)
 *   rest      the byte buffer; each tensor's raw little-endian row-major data at [b, e)
 *             relative to the buffer start, which must be indexed entirely, without holes
 *             or overlaps.
 *
 * The reader checks all of that and throws a SafetensorsError naming the source (file)
 * and what is wrong, distinguishing truncated files from corrupt ones.
 */

/** Bytes per element of every dtype the format defines. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The safetensors implementation refuses headers above 100 MB; so does this one. */
const MAX_HEADER_BYTES = 100_000_000;

/** One tensor as stored: dtype name, shape and its raw little-endian bytes. */
export interface RawTensor {
  dtype: string;
  shape: number[];
  /** A view into the decoded buffer (not a copy). */
  data: Uint8Array;
}

export interface SafetensorsContent {
  /** Tensors by name, in the order of their data in the file. */
  tensors: Map<string, RawTensor>;
  /** The "__metadata__" string map ({} when absent). */
  metadata: Record<string, string>;
}

/** A tensor to write: F32 from a Float32Array, I32 from an Int32Array, U8 from bytes. */
export interface TensorToWrite {
  dtype: "F32" | "I32" | "U8";
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Encodes tensors (in the given order) and string metadata as a safetensors file. */
export function encodeSafetensors(
  tensors: Array<[string, TensorToWrite]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new SafetensorsError(`metadata value of ${JSON.stringify(k)} is not a string`);
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of tensors) {
    if (name === "__metadata__" || seen.has(name)) {
      throw new SafetensorsError(`tensor name ${JSON.stringify(name)} is reserved or repeated`);
    }
    seen.add(name);
    const want = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== want) {
      throw new SafetensorsError(
        `tensor ${name}: ${t.data.byteLength} bytes of data for ${t.dtype} [${t.shape}] (${want} expected)`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + want] };
    offset += want;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // keeps the data 8-byte aligned
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const [, t] of tensors) {
    out.set(toLittleEndianBytes(t.data), pos);
    pos += t.data.byteLength;
  }
  return out;
}

function toLittleEndianBytes(a: Float32Array | Int32Array | Uint8Array): Uint8Array {
  if (a instanceof Uint8Array) return a;
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const v = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) v.setFloat32(4 * i, a[i], true);
    else v.setInt32(4 * i, a[i], true);
  }
  return out;
}

/**
 * Decodes and fully validates a safetensors file. `source` (a path) names it in errors.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContent {
  function fail(what: string): never {
    throw new SafetensorsError(`${source}: ${what}`);
  }
  if (bytes.length < 8) {
    fail(
      `truncated or not a safetensors file: ${bytes.length} bytes, less than the 8-byte header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`corrupt or not a safetensors file: header length ${n64} is implausible`);
  }
  const n = Number(n64);
  if (8 + n > bytes.length) {
    fail(`truncated: header of ${n} bytes announced, only ${bytes.length - 8} present`);
  }
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
    header = JSON.parse(text);
  } catch (e) {
    fail(`corrupt header (not UTF-8 JSON): ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("corrupt header: not a JSON object");
  }
  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const entries: Array<[string, RawTensor, number, number]> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        fail("corrupt header: __metadata__ is not a string map");
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`corrupt header: __metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== "object" || t === null) fail(`corrupt header: entry ${name} is not an object`);
    const size = typeof t.dtype === "string" ? DTYPE_BYTES[t.dtype] : undefined;
    if (size === undefined) {
      fail(`corrupt header: tensor ${name} has unknown dtype ${JSON.stringify(t.dtype)}`);
    }
    const shape = t.shape;
    if (
      !Array.isArray(shape) ||
      !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
    ) {
      fail(`corrupt header: tensor ${name} has invalid shape ${JSON.stringify(shape)}`);
    }
    const off = t.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 ||
      !off.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0) ||
      off[0] > off[1]
    ) {
      fail(`corrupt header: tensor ${name} has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [b, e] = off as [number, number];
    const want = numel(shape as number[]) * size!;
    if (e - b !== want) {
      fail(
        `corrupt header: tensor ${name} (${t.dtype} [${shape}]) needs ${want} bytes, data_offsets span ${
          e - b
        }`,
      );
    }
    entries.push([name, { dtype: t.dtype as string, shape: shape as number[], data: data }, b, e]);
  }
  entries.sort((x, y) => x[2] - y[2] || x[3] - y[3]);
  let end = 0;
  for (const [name, , b, e] of entries) {
    if (b !== end) {
      fail(`corrupt header: tensor ${name} starts at byte ${b}, expected ${end} (hole or overlap)`);
    }
    end = e;
  }
  if (end > data.length) {
    fail(`truncated: the tensors need ${end} data bytes, only ${data.length} present`);
  }
  if (end < data.length) {
    fail(`corrupt: ${data.length - end} bytes after the last tensor's data`);
  }
  const tensors = new Map<string, RawTensor>();
  for (const [name, t, b, e] of entries) tensors.set(name, { ...t, data: data.subarray(b, e) });
  return { tensors, metadata };
}

/** The values of an F32 tensor (a fresh, aligned Float32Array). */
export function rawToFloat32(t: RawTensor): Float32Array {
  if (t.dtype !== "F32") throw new SafetensorsError(`expected F32, got ${t.dtype}`);
  const copy = t.data.slice();
  if (LITTLE_ENDIAN_HOST) return new Float32Array(copy.buffer, 0, copy.length / 4);
  const v = new DataView(copy.buffer);
  const out = new Float32Array(copy.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = v.getFloat32(4 * i, true);
  return out;
}

/** The values of an I32 tensor (a fresh, aligned Int32Array). */
export function rawToInt32(t: RawTensor): Int32Array {
  if (t.dtype !== "I32") throw new SafetensorsError(`expected I32, got ${t.dtype}`);
  const copy = t.data.slice();
  if (LITTLE_ENDIAN_HOST) return new Int32Array(copy.buffer, 0, copy.length / 4);
  const v = new DataView(copy.buffer);
  const out = new Int32Array(copy.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = v.getInt32(4 * i, true);
  return out;
}
