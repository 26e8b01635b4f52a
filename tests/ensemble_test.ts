/** The flip self-ensemble (lib/eval/ensemble.ts) against flips done by index arithmetic. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "#lib/backends/select.ts";
import { createModel } from "#lib/models/registry.ts";
import { predictFlipEnsemble, withFlipEnsemble } from "#lib/eval/ensemble.ts";

/** image [H,W,3] flipped by plain indexing: (y, x) -> (flipV ? H-1-y : y, flipH ? W-1-x : x). */
function flip(data: Float32Array, h: number, w: number, flipV: boolean, flipH: boolean) {
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sy, sx] = [flipV ? h - 1 - y : y, flipH ? w - 1 - x : x];
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = data[(sy * w + sx) * 3 + c];
    }
  }
  return out;
}

Deno.test("flip ensemble: the mean of the model on the 4 flips, each flipped back", async () => {
  await initBackend("cpu");
  // Not flip-equivariant (random init, no residual): each flip gives a different output.
  const model = createModel("svrnn-small", { residual: false, seed: 3 });
  const [h, w] = [12, 20];
  const x = tf.randomUniform([1, h, w, 3], 0, 1, "float32", 7) as tf.Tensor4D;
  const xs = x.dataSync() as Float32Array;
  const want = new Float32Array(xs.length);
  const members: Float32Array[] = [];
  for (const [v, hz] of [[false, false], [false, true], [true, false], [true, true]]) {
    const input = tf.tensor4d(flip(xs, h, w, v, hz), [1, h, w, 3]);
    const out = model.predict(input);
    const back = flip(out.dataSync() as Float32Array, h, w, v, hz);
    members.push(back);
    back.forEach((value, i) => (want[i] += value / 4));
    tf.dispose([input, out]);
  }
  let spread = 0;
  members[1].forEach((value, i) => (spread = Math.max(spread, Math.abs(value - members[0][i]))));
  assert.ok(spread > 1e-4, "the members must differ for the test to mean anything");

  const before = tf.memory().numTensors;
  const wrapped = withFlipEnsemble(model);
  const got = wrapped.predict(x);
  const direct = predictFlipEnsemble(model, x);
  assert.equal(tf.memory().numTensors, before + 2);
  const [g, d] = [got.dataSync(), direct.dataSync()];
  let err = 0;
  want.forEach((value, i) => (err = Math.max(err, Math.abs(g[i] - value), Math.abs(d[i] - value))));
  assert.ok(err < 1e-5, `ensemble differs from the hand-flipped mean by ${err}`);
  // Everything but predict is the model's own.
  assert.equal(wrapped.name, "svrnn-small");
  assert.equal(wrapped.paramCount(), model.paramCount());
  tf.dispose([x, got, direct]);
  model.dispose();
});
