/**
 * Gate-recurrent kernels for tfjs's WebGPU backend (docs/paper.md#the-gate-recurrent-operator).
 *
 * The recursion is sequential along its axis but independent across everything else, so
 * each GPU thread owns one (outer block, inner index) lane and walks all `steps` of it,
 * carrying h (forward) or g[t+1] dh[t+1] (backward) in a register. Consecutive threads
 * take consecutive inner indices, which are contiguous in memory (gate_rnn_geometry.ts),
 * so every step's loads and stores are coalesced without any transpose.
 *
 * Every size, and the direction itself, reaches the shader as a uniform: tfjs caches
 * compiled pipelines by shaderKey, ranks and dtypes only, so one pipeline per program
 * class then serves all four directions and every shape.
 */
import * as tf from "@tensorflow/tfjs";
// Type-only on purpose: a runtime import would register the webgpu backend (and make it
// tfjs's default, priority 3) for anyone who merely imports the op. lib/backends/select.ts owns that.
import type { WebGPUBackend, WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import type { Direction } from "./gate_rnn_geometry.ts";
import { scanGeometry } from "./gate_rnn_geometry.ts";
import { GATE_RECURRENT, GATE_RECURRENT_GRAD } from "./gate_rnn_names.ts";

const WORKGROUP_SIZE = 64;

/**
 * Declared in the order `scanUniforms` fills them. `first` is the offset of the
 * recursion's first step inside a block and `stepDelta` the signed distance to the next
 * step, so a reversed scan is just a negative stride.
 */
const SCAN_UNIFORMS =
  "lanes : i32, inner : i32, outerStride : i32, steps : i32, first : i32, stepDelta : i32,";

/** Uniform values for `SCAN_UNIFORMS`, and the number of lanes (threads) they describe. */
function scanUniforms(shape: readonly number[], direction: Direction) {
  const { outer, outerStride, steps, stepStride, inner, reverse } = scanGeometry(shape, direction);
  const lanes = outer * inner;
  const first = reverse ? (steps - 1) * stepStride : 0;
  const stepDelta = reverse ? -stepStride : stepStride;
  const values = [lanes, inner, outerStride, steps, first, stepDelta];
  return { lanes, uniforms: values.map((v) => ({ type: "int32", data: [v] })) };
}

/**
 * WGSL that starts a lane: returns early for the padding threads of the last workgroup,
 * else defines `p`, the flat index of the lane's first step.
 */
const LANE_START = `
    if (index >= uniforms.lanes) {
      return;
    }
    let block = index / uniforms.inner;
    let lane = index - block * uniforms.inner;
    var p = block * uniforms.outerStride + lane + uniforms.first;`;

/**
 * Fields shared by both programs. The dispatch covers lanes, not output elements, which
 * the package's computeDispatch(flatDispatchLayout(outputShape)) would assume; it stays
 * one-dimensional, so runWebGPUProgram can fold it into 2D/3D past the per-dimension limit.
 */
abstract class ScanProgram implements WebGPUProgram {
  abstract outputShape: number[];
  abstract shaderKey: string;
  abstract variableNames: string[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP_SIZE, 1, 1];
  uniforms = SCAN_UNIFORMS;
  // Bounds come from `lanes`; the built-in `size` uniform counts output elements instead.
  size = false;

  constructor(lanes: number) {
    this.dispatchLayout = { x: [0] };
    this.dispatch = [Math.ceil(lanes / WORKGROUP_SIZE), 1, 1];
  }

  abstract getUserCode(): string;
}

/** y = scan(x, g): h[t] = (1 - g[t]) x[t] + g[t] h[t-1], h[-1] = 0. */
class GateRecurrentProgram extends ScanProgram {
  outputShape: number[];
  shaderKey = "gateRecurrent";
  variableNames = ["x", "g"];

  constructor(shape: number[], lanes: number) {
    super(lanes);
    this.outputShape = shape;
  }

  getUserCode(): string {
    return `
  fn main(index : i32) {${LANE_START}
    var h = 0.0;
    for (var s = 0; s < uniforms.steps; s++) {
      let gt = g[p];
      h = (1.0 - gt) * x[p] + gt * h;
      setOutputAtIndex(p, h);
      p += uniforms.stepDelta;
    }
  }`;
  }
}

/**
 * One of dx or dg, the backward of the scan. A program has a single output, so the
 * backward runs twice, once per gradient: the recursion itself is a few flops per
 * element, and two passes cost about half of one stacked pass plus the two slice copies
 * that would split it (measured on llvmpipe: 620 ms against 1.3 s for four directions at
 * [1,360,640,32]).
 */
class GateRecurrentGradProgram extends ScanProgram {
  outputShape: number[];
  shaderKey: string;
  // Only the inputs the WGSL reads: WebGPU's automatic layout drops unused bindings.
  variableNames: string[];
  private readonly gradient: "dx" | "dg";

  constructor(shape: number[], lanes: number, output: "dx" | "dg") {
    super(lanes);
    this.outputShape = shape;
    this.gradient = output;
    this.shaderKey = `gateRecurrentGrad_${output}`;
    this.variableNames = output === "dx" ? ["dy", "g"] : ["dy", "x", "g", "y"];
  }

  getUserCode(): string {
    const write = this.gradient === "dx"
      ? "setOutputAtIndex(p, (1.0 - gt) * dh);"
      : `var hPrev = 0.0;
      if (s > 0) {
        hPrev = y[p - uniforms.stepDelta];
      }
      setOutputAtIndex(p, dh * (hPrev - x[p]));`;
    // Walks the lane from its last step back to its first.
    return `
  fn main(index : i32) {${LANE_START}
    p += (uniforms.steps - 1) * uniforms.stepDelta;
    var carry = 0.0;
    for (var s = uniforms.steps - 1; s >= 0; s--) {
      let dh = dy[p] + carry;
      let gt = g[p];
      ${write}
      carry = gt * dh;
      p -= uniforms.stepDelta;
    }
  }`;
  }
}

tf.registerKernel({
  kernelName: GATE_RECURRENT,
  backendName: "webgpu",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, g } = inputs as { x: tf.TensorInfo; g: tf.TensorInfo };
    const webgpu = backend as WebGPUBackend;
    const { lanes, uniforms } = scanUniforms(x.shape, attrs!.direction as Direction);
    const program = new GateRecurrentProgram(x.shape, lanes);
    return webgpu.runWebGPUProgram(program, [x, g], "float32", uniforms);
  },
});

tf.registerKernel({
  kernelName: GATE_RECURRENT_GRAD,
  backendName: "webgpu",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, x, g, y } = inputs as Record<"dy" | "x" | "g" | "y", tf.TensorInfo>;
    const webgpu = backend as WebGPUBackend;
    const { lanes, uniforms } = scanUniforms(x.shape, attrs!.direction as Direction);
    const run = (output: "dx" | "dg") =>
      webgpu.runWebGPUProgram(
        new GateRecurrentGradProgram(x.shape, lanes, output),
        output === "dx" ? [dy, g] : [dy, x, g, y],
        "float32",
        uniforms,
      );
    const dx = run("dx");
    const dg = run("dg");
    return [dx, dg];
  },
});
