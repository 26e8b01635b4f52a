/**
 * Recycling of tensor buffers for the "native" backend.
 *
 * Every kernel output is a new Float32Array; a fresh multi-megabyte array costs page
 * faults and zeroing on first touch, about twice the time of an element-wise pass over it
 * (measured here: 84 MB, 26 ms to add into a reused array, 78 ms into a fresh one). A
 * training step frees and allocates hundreds of same-sized arrays, so the native backend's
 * kernels allocate from this pool, and arrays come back to it when tfjs deletes their data
 * (a request of n floats may get the first n of a somewhat larger free array).
 *
 * An array is recycled only when it is certain nobody can still see it:
 * - it was allocated here (never an array a user handed to tf.tensor);
 * - no live tensor stores it or a view of its buffer (the backend's data storage is
 *   watched, so a contiguous Slice sharing its parent's buffer keeps the parent alive);
 * - it never left the backend through readSync/read (dataSync(), data(), moving to
 *   another backend): those callers keep the very array the cpu backend stores.
 */

export interface PoolStats {
  /** Bytes held for reuse now. */
  pooledBytes: number;
  /** Bytes of float32 tensor data the backend holds (views counted again). */
  liveBytes: number;
  /** Allocations served from the pool / newly allocated since the last reset. */
  reused: number;
  allocated: number;
}

export class BufferPool {
  /** Free arrays (whole buffers), sorted by length. */
  #free: Float32Array[] = [];
  /** Buffers this pool allocated. */
  #owned = new WeakSet<ArrayBufferLike>();
  /** Buffers that were handed out of the backend (never recycled). */
  #escaped = new WeakSet<ArrayBufferLike>();
  /** Live stores of each owned buffer in the backend's data storage. */
  #live = new Map<ArrayBufferLike, number>();
  /** Freed arrays in the order they came back, for eviction (oldest first). */
  #order: Float32Array[] = [];
  #pooledBytes = 0;
  #reused = 0;
  #allocated = 0;

  /** Bytes of float32 tensor data the watched backend holds now. */
  #liveBytes = 0;
  /** The most bytes of float32 tensor data held at once since resetPeak. */
  #peakLiveBytes = 0;
  /**
   * When > 0, the pool may also keep this fraction of the peak live bytes (training: see
   * setTrainingPool in backend.ts). A training step's activations die during its backward
   * pass, when the live bytes are falling; bounded by the current live bytes, the pool let
   * most of them go and the next forward pass allocated them afresh: at batch 20 of
   * 128x128, 1-4 GiB of page faults per step, 3-10 s of system time.
   */
  peakFraction = 0;

  /**
   * Keeps at most max(limitBytes, liveFraction * bytes of live tensors) for reuse: small
   * for inference (peak memory), larger when training holds gigabytes of activations and
   * frees same-sized gradients by the hundred. limitBytes 0 disables recycling. A request
   * takes the smallest free array of at least its length and at most `slack` times it
   * (as a view of its first n values), so buffers also serve nearby sizes.
   */
  constructor(public limitBytes: number, public liveFraction = 0.25, public slack = 1.5) {}

  #limit(): number {
    return this.limitBytes <= 0 ? 0 : Math.max(
      this.limitBytes,
      this.liveFraction * this.#liveBytes,
      this.peakFraction * this.#peakLiveBytes,
    );
  }

  /** Index of the first free array with length >= n. */
  #search(n: number): number {
    let lo = 0, hi = this.#free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#free[mid].length < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #take(i: number): Float32Array {
    const a = this.#free[i];
    this.#free.splice(i, 1);
    this.#pooledBytes -= a.byteLength;
    const j = this.#order.lastIndexOf(a);
    if (j >= 0) this.#order.splice(j, 1);
    return a;
  }

  /** A Float32Array of length n; its contents are arbitrary when it is recycled. */
  alloc(n: number): Float32Array {
    const i = this.#search(n);
    if (n > 0 && i < this.#free.length && this.#free[i].length <= this.slack * n) {
      const a = this.#take(i);
      this.#reused++;
      return a.length === n ? a : a.subarray(0, n);
    }
    this.#allocated++;
    const fresh = new Float32Array(n);
    if (this.limitBytes > 0) this.#owned.add(fresh.buffer);
    return fresh;
  }

  /** A zero-filled Float32Array of length n. */
  allocZeroed(n: number): Float32Array {
    const a = this.alloc(n);
    a.fill(0);
    return a;
  }

  /** The backend stored `values` for a tensor. */
  stored(values: unknown): void {
    if (values instanceof Float32Array) {
      this.#liveBytes += values.byteLength;
      if (this.#liveBytes > this.#peakLiveBytes) this.#peakLiveBytes = this.#liveBytes;
    }
    const buf = bufferOf(values);
    if (buf && this.#owned.has(buf)) this.#live.set(buf, (this.#live.get(buf) ?? 0) + 1);
  }

  /**
   * The backend deleted a tensor's `values`: once no stored tensor uses its buffer and the
   * buffer never escaped, the whole buffer is recycled.
   */
  deleted(values: unknown): void {
    if (values instanceof Float32Array) this.#liveBytes -= values.byteLength;
    const buf = bufferOf(values);
    if (!buf || !this.#owned.has(buf)) return;
    const n = (this.#live.get(buf) ?? 1) - 1;
    if (n > 0) {
      this.#live.set(buf, n);
      return;
    }
    this.#live.delete(buf);
    if (this.#escaped.has(buf)) return;
    this.#release(new Float32Array(buf));
  }

  /** `values` left the backend (readSync, read): never recycle its buffer. */
  escaped(values: unknown): void {
    const buf = bufferOf(values);
    if (buf && this.#owned.has(buf)) this.#escaped.add(buf);
  }

  #release(a: Float32Array): void {
    const limit = this.#limit();
    if (a.byteLength > limit) return;
    this.#pooledBytes += a.byteLength;
    this.#free.splice(this.#search(a.length), 0, a);
    this.#order.push(a);
    this.#evict(limit);
  }

  #evict(limit: number): void {
    while (this.#pooledBytes > limit && this.#order.length > 0) {
      const old = this.#order.shift()!;
      this.#free.splice(this.#free.indexOf(old), 1);
      this.#pooledBytes -= old.byteLength;
    }
  }

  /** Forgets the peak (it restarts from the live bytes now) and evicts down to the limit. */
  resetPeak(): void {
    this.#peakLiveBytes = this.#liveBytes;
    this.#evict(this.#limit());
  }

  /** Drops every pooled array (memory returns to the system at the next GC). */
  clear(): void {
    this.#free = [];
    this.#order = [];
    this.#pooledBytes = 0;
  }

  stats(): PoolStats {
    return {
      pooledBytes: this.#pooledBytes,
      liveBytes: this.#liveBytes,
      reused: this.#reused,
      allocated: this.#allocated,
    };
  }

  resetStats(): void {
    this.#reused = 0;
    this.#allocated = 0;
  }
}

function bufferOf(values: unknown): ArrayBufferLike | null {
  return values instanceof Float32Array ? values.buffer : null;
}

/**
 * The pool the native kernels allocate from (limits set by registerNativeBackend).
 * 256 MiB, or a quarter of the live tensor bytes when that is more: measured on the
 * 1280x720 svrnn forward (about 1 GiB of live tensors at its peak), peak RSS 1.34-1.42 GiB
 * without a pool, 1.5-1.8 GiB with 256-512 MiB, 2.0 GiB with 1 GiB (pooled arrays stay
 * resident); a batch-20 training step holds about 11 GiB of tensors.
 */
export const bufferPool: BufferPool = new BufferPool(256 * 1024 * 1024, 0.25);

/** The parts of MathBackendCPU the pool watches. */
interface WatchedBackend {
  data: {
    get(dataId: unknown): { values?: unknown } | undefined;
    set(dataId: unknown, value: { values?: unknown }): void;
    delete(dataId: unknown): boolean;
    has(dataId: unknown): boolean;
  };
  readSync(dataId: unknown): unknown;
  read(dataId: unknown): Promise<unknown>;
}

/**
 * Watches a MathBackendCPU instance's data storage and reads so that `pool` knows when an
 * array it allocated is free. Only this instance is changed.
 */
export function watchBackend(backend: WatchedBackend, pool: BufferPool): void {
  const data = backend.data;
  const set = data.set.bind(data);
  const del = data.delete.bind(data);
  data.set = (dataId, value) => {
    const old = data.has(dataId) ? data.get(dataId)?.values : undefined;
    set(dataId, value);
    pool.stored(value?.values);
    if (old !== undefined) pool.deleted(old);
  };
  data.delete = (dataId) => {
    const values = data.has(dataId) ? data.get(dataId)?.values : undefined;
    const r = del(dataId);
    if (values !== undefined) pool.deleted(values);
    return r;
  };
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId) => {
    pool.escaped(data.get(dataId)?.values);
    return readSync(dataId);
  };
  const read = backend.read.bind(backend);
  backend.read = (dataId) => {
    pool.escaped(data.get(dataId)?.values);
    return read(dataId);
  };
}
