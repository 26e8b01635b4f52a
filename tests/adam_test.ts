/**
 * The fused recipe update (lib/train/adam.ts) against tfjs's own AdamOptimizer fed the
 * clipped, weight-decayed gradient: same weights, same moments, same checkpoint names.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "#lib/backends/select.ts";
import { RECIPE_ADAM, RecipeAdam } from "#lib/train/adam.ts";

const SHAPES: number[][] = [[3, 3, 4, 5], [5], [1, 7]];

function relativeError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-3 + Math.abs(b[i])));
  }
  return worst;
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`RecipeAdam ${backend}: the fused update equals tfjs's Adam on clipped, decayed gradients`, async () => {
    await initBackend(backend);
    assert.ok(tf.getKernel(RECIPE_ADAM, backend), `no ${RECIPE_ADAM} kernel for ${backend}`);
    const before = tf.memory().numTensors;
    const make = (tag: string) =>
      SHAPES.map((s, i) => {
        const init = tf.randomNormal(s, 0, 1, "float32", 10 + i);
        const v = tf.variable(init, true, `${tag}${i}`);
        init.dispose();
        return v;
      });
    const [a, b] = [make("fused"), make("composite")];
    const [fused, composite] = [
      new RecipeAdam(1e-2, 0.9, 0.999, 1e-8),
      new RecipeAdam(1e-2, 0.9, 0.999, 1e-8),
    ];
    composite.fused = false;
    for (let step = 0; step < 6; step++) {
      // Gradients of both magnitudes, so bias correction and epsilon both matter.
      const grads = SHAPES.map((s, i) =>
        tf.randomNormal(s, 0, step % 2 ? 1e-3 : 3, "float32", 100 * step + i)
      );
      const options = {
        learningRate: 1e-2 / (step + 1),
        scale: step === 2 ? 0.25 : 1,
        weightDecay: 1e-2,
      };
      fused.step(a, Object.fromEntries(a.map((v, i) => [v.name, grads[i]])), options);
      composite.step(b, Object.fromEntries(b.map((v, i) => [v.name, grads[i]])), options);
      tf.dispose(grads);
    }
    a.forEach((v, i) => {
      const err = relativeError(v.dataSync() as Float32Array, b[i].dataSync() as Float32Array);
      assert.ok(err < 1e-4, `${v.name}: relative difference ${err}`);
    });
    const [wa, wb] = [await fused.getWeights(), await composite.getWeights()];
    assert.deepEqual(
      wa.map((w) => w.name.replace("fused", "")),
      wb.map((w) => w.name.replace("composite", "")),
    );
    assert.equal(wa[0].tensor.dataSync()[0], 6); // iterations
    wa.slice(1).forEach((w, i) => {
      const err = relativeError(
        w.tensor.dataSync() as Float32Array,
        wb[i + 1].tensor.dataSync() as Float32Array,
      );
      assert.ok(err < 1e-4, `${w.name}: relative difference ${err}`);
    });
    // The update moved the weights (the comparison is not between two untouched sets).
    const start = tf.randomNormal(SHAPES[0], 0, 1, "float32", 10);
    assert.ok(
      relativeError(a[0].dataSync() as Float32Array, start.dataSync() as Float32Array) > 1e-3,
    );
    tf.dispose([start, wa[0].tensor, wb[0].tensor]);
    fused.dispose();
    composite.dispose();
    tf.dispose([...a, ...b]);
    assert.equal(tf.memory().numTensors, before);
  });
}
