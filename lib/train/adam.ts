/**
 * The recipe's update (clip scale, weight decay, Adam) as one kernel per weight.
 *
 * tfjs's AdamOptimizer spends a dozen element-wise ops per variable, and the recipe adds
 * three more (clip, decay): on the CPU backends that is about 15 passes over every weight
 * and as many fresh arrays per step, a third of an `svrnn` training step on the native
 * backend. `RecipeAdam.step` does it in one pass: for each element,
 *
 *   u = scale g + weightDecay w                 (Caffe's order: clip, then decay)
 *   m = beta1 m + (1 - beta1) u
 *   v = beta2 v + (1 - beta2) u^2
 *   w = w - lr (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
 *
 * the same formula as tf.train.adam (bias-corrected moments, epsilon outside the root),
 * evaluated in float64 per element and stored as float32. The kernel is registered for the
 * cpu, native and wasm backends; on others (webgpu) `step` runs tfjs's composite update.
 * Moments live in AdamOptimizer's own variables, so getWeights/setWeights (checkpoints)
 * are unchanged.
 */
import * as tf from "@tensorflow/tfjs";
import { bufferPool } from "../backends/native/pool.ts";
import { allocF32, assertFloat32, type BackendWasm, f32Offset, heapF32 } from "../ops/wasm_heap.ts";

export const RECIPE_ADAM = "SvrnnRecipeAdam";

export interface AdamUpdateAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 - beta1^t and 1 - beta2^t for this step (t counts from 1). */
  correction1: number;
  correction2: number;
  /** Gradient-clipping factor (1 when not clipped). */
  scale: number;
  weightDecay: number;
}

/** The update over flat arrays; outputs may not alias inputs. */
export function adamUpdate(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  outW: Float32Array,
  outM: Float32Array,
  outV: Float32Array,
  a: AdamUpdateAttrs,
): void {
  const { beta1, beta2, epsilon, scale, weightDecay } = a;
  const [c1, c2] = [1 - beta1, 1 - beta2];
  const step = a.learningRate / a.correction1;
  const rootCorrection = 1 / a.correction2;
  for (let i = 0; i < w.length; i++) {
    const u = scale * g[i] + weightDecay * w[i];
    const mi = beta1 * m[i] + c1 * u;
    const vi = beta2 * v[i] + c2 * u * u;
    outM[i] = mi;
    outV[i] = vi;
    outW[i] = w[i] - (step * mi) / (Math.sqrt(vi * rootCorrection) + epsilon);
  }
}

interface CpuLike {
  data: { get(dataId: object): { values: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/**
 * The kernel for backends that store tensors as Float32Arrays, with outputs from `alloc`. On
 * the native backend they come from its buffer pool: three fresh arrays the size of the
 * weights cost more in first-touch page faults than the update itself (9.2M weights of
 * `svrnn`: 280 ms of faults against a 34 ms pass, measured here).
 */
function cpuKernel(alloc: (n: number) => Float32Array): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const b = backend as unknown as CpuLike;
    const [w, g, m, v] = ["w", "g", "m", "v"].map((k) => {
      const values = b.data.get(inputs[k]!.dataId)?.values;
      if (!(values instanceof Float32Array)) {
        throw new Error(`${RECIPE_ADAM}: ${k} is not float32`);
      }
      return values;
    });
    const out = [0, 1, 2].map(() => alloc(w.length));
    adamUpdate(w, g, m, v, out[0], out[1], out[2], attrs as unknown as AdamUpdateAttrs);
    return out.map((values) => b.makeTensorInfo(inputs.w!.shape, "float32", values));
  };
}

function wasmKernel(
  { inputs, backend, attrs }: Parameters<tf.KernelFunc>[0],
): tf.TensorInfo[] {
  const b = backend as unknown as BackendWasm;
  const ins = inputs as Record<"w" | "g" | "m" | "v", tf.TensorInfo>;
  assertFloat32(RECIPE_ADAM, ins);
  const outs = [0, 1, 2].map(() => allocF32(b, ins.w.shape));
  // Views after every allocation: growing the heap detaches earlier ones.
  const heap = heapF32(b);
  const size = tf.util.sizeFromShape(ins.w.shape);
  const view = (t: tf.TensorInfo) => heap.subarray(f32Offset(b, t), f32Offset(b, t) + size);
  const [ow, om, ov] = outs.map(view);
  adamUpdate(
    view(ins.w),
    view(ins.g),
    view(ins.m),
    view(ins.v),
    ow,
    om,
    ov,
    attrs as unknown as AdamUpdateAttrs,
  );
  return outs;
}

tf.registerKernel({
  kernelName: RECIPE_ADAM,
  backendName: "cpu",
  kernelFunc: cpuKernel((n) => new Float32Array(n)),
});
tf.registerKernel({
  kernelName: RECIPE_ADAM,
  backendName: "native",
  kernelFunc: cpuKernel((n) => bufferPool.alloc(n)),
});
tf.registerKernel({ kernelName: RECIPE_ADAM, backendName: "wasm", kernelFunc: wasmKernel });

/** AdamOptimizer's private state, which `step` updates the way applyGradients does. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

export interface StepOptions {
  learningRate: number;
  /** Gradient-clipping factor (1 when not clipped). */
  scale: number;
  weightDecay: number;
}

/** tf.train.adam with the recipe's one-pass update (`step`); checkpoints as AdamOptimizer. */
export class RecipeAdam extends tf.AdamOptimizer {
  /** False: always tfjs's composite update (the benchmark's baseline). */
  fused = true;

  /**
   * Applies clip scale, weight decay and Adam to `variables` (in the same order every
   * step: moments are matched to variables by position, as in AdamOptimizer).
   */
  step(variables: tf.Variable[], grads: tf.NamedTensorMap, o: StepOptions): void {
    const s = this as unknown as AdamState;
    s.learningRate = o.learningRate;
    if (!this.fused || tf.getKernel(RECIPE_ADAM, tf.getBackend()) === undefined) {
      const updates = tf.tidy(() => {
        const out: tf.NamedTensorMap = {};
        for (const v of variables) {
          let u = o.scale === 1 ? grads[v.name] : tf.mul(grads[v.name], o.scale);
          if (o.weightDecay > 0) u = tf.add(u, tf.mul(v, o.weightDecay));
          out[v.name] = u;
        }
        return out;
      });
      this.applyGradients(updates as tf.NamedTensorMap as Record<string, tf.Variable>);
      tf.dispose(updates); // may include caller-owned grads: disposing twice is harmless
      return;
    }
    const [acc1, acc2] = [s.accBeta1.dataSync()[0], s.accBeta2.dataSync()[0]];
    const attrs: AdamUpdateAttrs = {
      learningRate: o.learningRate,
      beta1: s.beta1,
      beta2: s.beta2,
      epsilon: s.epsilon,
      correction1: 1 - acc1,
      correction2: 1 - acc2,
      scale: o.scale,
      weightDecay: o.weightDecay,
    };
    tf.tidy(() => {
      variables.forEach((variable, i) => {
        const moment = (list: AdamState["accumulatedFirstMoment"], suffix: string) => {
          list[i] ??= {
            originalName: `${variable.name}/${suffix}`,
            variable: tf.tidy(() => tf.zerosLike(variable).variable(false)),
          };
          return list[i].variable;
        };
        const m = moment(s.accumulatedFirstMoment, "m");
        const v = moment(s.accumulatedSecondMoment, "v");
        // As applyGradients: the moments exist (checkpoints list them all), the weight stays.
        if (grads[variable.name] === undefined) return;
        const [w, nm, nv] = tf.engine().runKernel(
          RECIPE_ADAM,
          { w: variable, g: grads[variable.name], m, v },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        m.assign(nm);
        v.assign(nv);
        variable.assign(w);
      });
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    s.incrementIterations();
  }
}
