// Gate-recurrent scans in AssemblyScript, compiled to WebAssembly with 128-bit SIMD.
// The module imports the tfjs wasm backend's memory, so it reads and writes tensors where
// they already live: all pointers are byte offsets into that heap and no data is copied.
// Loop shape and arguments: see lib/ops/gate_rnn_geometry.ts (outer x steps x inner,
// strides in floats). SIMD runs along `inner`, the contiguous axis; a scalar tail
// covers inner % 4 (C = 1 or 3 on a horizontal scan).

// h[t] = (1 - g[t]) x[t] + g[t] h[t-1], written as x + g (h - x), with h[-1] = 0.
export function scan_forward(
  x: usize,
  g: usize,
  y: usize,
  outer: i32,
  outerStride: i32,
  steps: i32,
  stepStride: i32,
  inner: i32,
  reverse: i32,
): void {
  const vecEnd = (inner & ~3) << 2;
  const innerBytes = inner << 2;
  const stepBytes = <usize> stepStride << 2;
  for (let o = 0; o < outer; o++) {
    const block = (<usize> o * <usize> outerStride) << 2;
    for (let s = 0; s < steps; s++) {
      const t = reverse ? steps - 1 - s : s;
      const base = block + ((<usize> t * <usize> stepStride) << 2);
      const xp = x + base;
      const gp = g + base;
      const yp = y + base;
      if (s == 0) {
        const one = f32x4.splat(1.0);
        let i: usize = 0;
        for (; i < <usize> vecEnd; i += 16) {
          v128.store(yp + i, f32x4.mul(f32x4.sub(one, v128.load(gp + i)), v128.load(xp + i)));
        }
        for (; i < <usize> innerBytes; i += 4) {
          store<f32>(yp + i, (1.0 - load<f32>(gp + i)) * load<f32>(xp + i));
        }
      } else {
        const hp = reverse ? yp + stepBytes : yp - stepBytes;
        let i: usize = 0;
        for (; i < <usize> vecEnd; i += 16) {
          const xv = v128.load(xp + i);
          const hv = v128.load(hp + i);
          v128.store(yp + i, f32x4.add(xv, f32x4.mul(v128.load(gp + i), f32x4.sub(hv, xv))));
        }
        for (; i < <usize> innerBytes; i += 4) {
          const xs = load<f32>(xp + i);
          store<f32>(yp + i, xs + load<f32>(gp + i) * (load<f32>(hp + i) - xs));
        }
      }
    }
  }
}

// Backward, from the recursion's last step to its first:
//   dh[t] = dy[t] + g[t+1] dh[t+1];  dx[t] = (1 - g[t]) dh[t];  dg[t] = dh[t] (h[t-1] - x[t]).
// `carry` (inner floats of scratch) holds g[t+1] dh[t+1] between steps. The first step of
// the recursion, whose h[t-1] is the zero initial state, is its own loop, so the hot loop has
// no per-vector branch.
export function scan_backward(
  dy: usize,
  x: usize,
  g: usize,
  y: usize,
  dx: usize,
  dg: usize,
  carry: usize,
  outer: i32,
  outerStride: i32,
  steps: i32,
  stepStride: i32,
  inner: i32,
  reverse: i32,
): void {
  const innerBytes = inner << 2;
  const stepBytes = <usize> stepStride << 2;
  for (let o = 0; o < outer; o++) {
    const block = (<usize> o * <usize> outerStride) << 2;
    memory.fill(carry, 0, <usize> innerBytes);
    for (let s = steps - 1; s >= 0; s--) {
      const t = reverse ? steps - 1 - s : s;
      const base = block + ((<usize> t * <usize> stepStride) << 2);
      if (s == 0) {
        backwardStep(dy + base, x + base, g + base, 0, dx + base, dg + base, carry, inner, false);
      } else {
        const hp = reverse ? y + base + stepBytes : y + base - stepBytes;
        backwardStep(dy + base, x + base, g + base, hp, dx + base, dg + base, carry, inner, true);
      }
    }
  }
}

// One step of the backward recursion over `inner` floats; `hasPrev` false reads h[t-1] as 0.
// Inlined with a constant `hasPrev`, so each call site compiles to a branch-free loop.
@inline
function backwardStep(
  dyp: usize,
  xp: usize,
  gp: usize,
  hp: usize,
  dxp: usize,
  dgp: usize,
  carry: usize,
  inner: i32,
  hasPrev: bool,
): void {
  const vecEnd = <usize> ((inner & ~3) << 2);
  const innerBytes = <usize> (inner << 2);
  const one = f32x4.splat(1.0);
  let i: usize = 0;
  for (; i < vecEnd; i += 16) {
    const dh = f32x4.add(v128.load(dyp + i), v128.load(carry + i));
    const gv = v128.load(gp + i);
    const hv = hasPrev ? v128.load(hp + i) : f32x4.splat(0.0);
    v128.store(dxp + i, f32x4.mul(f32x4.sub(one, gv), dh));
    v128.store(dgp + i, f32x4.mul(dh, f32x4.sub(hv, v128.load(xp + i))));
    v128.store(carry + i, f32x4.mul(gv, dh));
  }
  for (; i < innerBytes; i += 4) {
    const dh = load<f32>(dyp + i) + load<f32>(carry + i);
    const gs = load<f32>(gp + i);
    const hs: f32 = hasPrev ? load<f32>(hp + i) : 0.0;
    store<f32>(dxp + i, (1.0 - gs) * dh);
    store<f32>(dgp + i, dh * (hs - load<f32>(xp + i)));
    store<f32>(carry + i, gs * dh);
  }
}
