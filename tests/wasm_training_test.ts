/**
 * A small conv + gateRecurrent network (a tiny SVRNN: convs, stride-2 conv, max-pool,
 * bilinear resize, tanh gates, four directional scans) trains on the wasm backend, and
 * its gradients equal the cpu backend's.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "#lib/backends/select.ts";
import { createModel } from "#lib/models/registry.ts";
import { modelLoss } from "#lib/train/step.ts";
import { mulberry32 } from "./support/gate_reference.ts";

const TINY = { genWidth: 2, rnnChannels: 4, e1Channels: 4, seed: 3, residual: false };
const SHAPE: [number, number, number, number] = [2, 16, 24, 3];

function inputs(): { blurry: Float32Array; sharp: Float32Array } {
  const rand = mulberry32(9);
  const sharp = Float32Array.from({ length: SHAPE.reduce((a, b) => a * b) }, rand);
  // A horizontal 3-tap box blur: something a recursion can undo.
  const blurry = new Float32Array(sharp.length);
  const [n, h, w, c] = SHAPE;
  for (let i = 0; i < n * h; i++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (const dx of [-1, 0, 1]) {
          s += sharp[(i * w + Math.min(w - 1, Math.max(0, x + dx))) * c + k];
        }
        blurry[(i * w + x) * c + k] = s / 3;
      }
    }
  }
  return { blurry, sharp };
}

async function gradients(backend: "cpu" | "wasm"): Promise<Map<string, Float32Array>> {
  await initBackend(backend);
  const model = createModel("svrnn-small", TINY);
  const { blurry, sharp } = inputs();
  const x = tf.tensor4d(blurry, SHAPE), y = tf.tensor4d(sharp, SHAPE);
  const { value, grads } = tf.variableGrads(() => modelLoss(model, x, y), model.trainableVariables);
  const out = new Map<string, Float32Array>();
  for (const w of model.weights) {
    out.set(w.name, await grads[w.variable.name].data() as Float32Array);
  }
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

Deno.test("wasm: a conv + gateRecurrent network's gradients equal the cpu backend's", async () => {
  const cpu = await gradients("cpu");
  const wasm = await gradients("wasm");
  assert.equal(wasm.size, cpu.size);
  for (const [name, want] of cpu) {
    const got = wasm.get(name)!;
    let num = 0, den = 0;
    for (let i = 0; i < want.length; i++) {
      num = Math.max(num, Math.abs(got[i] - want[i]));
      den = Math.max(den, Math.abs(want[i]));
    }
    assert.ok(den > 0, `${name}: zero gradient`);
    assert.ok(num / den <= 1e-4, `${name}: relative error ${num / den}`);
  }
});

Deno.test("wasm: the network trains (loss falls over 50 Adam steps), leaking nothing", async () => {
  await initBackend("wasm");
  const model = createModel("svrnn-small", TINY);
  const { blurry, sharp } = inputs();
  const x = tf.tensor4d(blurry, SHAPE), y = tf.tensor4d(sharp, SHAPE);
  const opt = tf.train.adam(3e-3);
  const losses: number[] = [];
  let tensorsAfterFirst = 0;
  for (let step = 0; step < 50; step++) {
    const loss = opt.minimize(() => modelLoss(model, x, y), true, model.trainableVariables)!;
    losses.push((await loss.data())[0]);
    loss.dispose();
    if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, tensorsAfterFirst);
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.5 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
});
