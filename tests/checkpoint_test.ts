/**
 * Checkpoints: save/load round trips (outputs, metadata, optimizer state), a fixture
 * written byte by byte from the safetensors specification whose conv reproduces a hand
 * computation, the [out,in,kh,kw] layout, and the errors for mismatched, truncated and
 * corrupt files.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "#lib/backends/select.ts";
import {
  CheckpointMismatchError,
  inspectCheckpoint,
  loadCheckpoint,
  loadModel,
  releaseCheckpoint,
  SafetensorsError,
  saveCheckpoint,
} from "#lib/models/checkpoint.ts";
import { createModel } from "#lib/models/registry.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type TensorToWrite,
} from "#lib/models/safetensors.ts";

function image(shape: [number, number, number, number], seed = 1): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, "float32", seed) as tf.Tensor4D;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "svrnn-ckpt-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("releaseCheckpoint keeps the weights and the run's records, drops the optimizer", async () => {
  await initBackend("cpu");
  await withTempDir(async (dir) => {
    const a = createModel("svrnn-small-1block", { residual: false, seed: 3 });
    const m = tf.fill([3, 3, 3, 16], 0.5);
    const run = `${dir}/run/last.safetensors`;
    const training = JSON.stringify({ step: 2000 });
    await saveCheckpoint(a, run, { training, init: "from-x", provenance: "old" }, {
      optimizer: { "conve1_1.weight/m": m },
    });
    const out = `${dir}/released/svrnn-small-1block.safetensors`;
    await releaseCheckpoint(run, out, { provenance: "release", eval: { meanPsnr: 1 } });
    const { model, metadata, optimizer } = await loadModel(out);
    assert.deepEqual(Object.keys(optimizer), [], "no optimizer state in a released file");
    assert.equal(metadata.training, training);
    assert.equal(metadata.init, "from-x");
    assert.equal(metadata.provenance, "release", "the release's own provenance wins");
    assert.deepEqual(JSON.parse(metadata.eval), { meanPsnr: 1 });
    assert.equal(metadata.source_checkpoint, run);
    assert.ok((await Deno.stat(out)).size < (await Deno.stat(run)).size);
    const x = image([1, 12, 12, 3]);
    const [ya, yb] = [a.predict(x), model.predict(x)];
    assert.equal(maxAbsDiff(ya, yb), 0);
    tf.dispose([m, x, ya, yb]);
    a.dispose();
    model.dispose();
  });
});

Deno.test("save then load reproduces identical outputs, metadata and optimizer state", async () => {
  await initBackend("cpu");
  await withTempDir(async (dir) => {
    const a = createModel("svrnn-small", { residual: false });
    const b = createModel("svrnn-small", { residual: false, seed: 5 });
    const x = image([1, 13, 22, 3]);
    const ya = a.predict(x);
    const before = b.predict(x);
    assert.ok(maxAbsDiff(ya, before) > 1e-4, "different seeds differ before loading");
    const m = tf.fill([3, 3, 3, 16], 0.25);
    const step = tf.scalar(42, "int32");
    const path = `${dir}/sub/dir/a.safetensors`;
    await saveCheckpoint(a, path, { commit: "abc123", step: 1000, backend: "cpu" }, {
      optimizer: { "conve1_1.weight/m": m, "step": step },
    });
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub/dir`)].map((e) => e.name), ["a.safetensors"]);
    const loaded = await loadCheckpoint(b, path);
    const yb = b.predict(x);
    assert.equal(maxAbsDiff(ya, yb), 0);
    assert.equal(loaded.metadata.model, "svrnn-small");
    assert.equal(loaded.metadata.family, "svrnn");
    assert.equal(loaded.metadata.format, "svrnn-kit-checkpoint/1");
    assert.equal(loaded.metadata.param_count, String(a.paramCount()));
    assert.deepEqual(JSON.parse(loaded.metadata.config), a.config);
    assert.equal(loaded.metadata.commit, "abc123");
    assert.equal(loaded.metadata.step, "1000");
    assert.deepEqual(Object.keys(loaded.optimizer).sort(), ["conve1_1.weight/m", "step"]);
    assert.equal(maxAbsDiff(loaded.optimizer["conve1_1.weight/m"], m), 0);
    assert.equal(loaded.optimizer.step.dtype, "int32");
    assert.equal(loaded.optimizer.step.dataSync()[0], 42);

    // Overwriting an existing checkpoint goes through a temp file and a rename too.
    await saveCheckpoint(b, path);
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub/dir`)].map((e) => e.name), ["a.safetensors"]);
    await assert.rejects(
      () => saveCheckpoint(a, path, { model: "other" }),
      /model reserved/,
    );
    tf.dispose([x, ya, yb, before, m, step, ...Object.values(loaded.optimizer)]);
    a.dispose();
    b.dispose();
  });
});

Deno.test("loadModel rebuilds the named model and config from the metadata", async () => {
  await initBackend("cpu");
  await withTempDir(async (dir) => {
    const a = createModel("cnn-small", { depth: 3, seed: 2 });
    const path = `${dir}/cnn.safetensors`;
    await saveCheckpoint(a, path, { note: { nested: [1, 2] } });
    const { model, metadata } = await loadModel(path);
    assert.equal(model.name, "cnn-small");
    assert.deepEqual(model.config, a.config);
    assert.equal(metadata.note, '{"nested":[1,2]}');
    const x = image([2, 9, 7, 3]);
    const [ya, yb] = [a.predict(x), model.predict(x)];
    assert.equal(maxAbsDiff(ya, yb), 0);
    tf.dispose([x, ya, yb]);
    a.dispose();
    model.dispose();
  });
});

Deno.test("the paper's svrnn checkpoint: prototxt names, weights [out,in,kh,kw], 9,227,027 floats", async () => {
  await initBackend("cpu");
  await withTempDir(async (dir) => {
    const a = createModel("svrnn");
    const path = `${dir}/svrnn.safetensors`;
    await saveCheckpoint(a, path);
    const info = await inspectCheckpoint(path);
    const shapes = new Map(info.tensors.map((t) => [t.name, t.shape]));
    assert.deepEqual(shapes.get("conve1_1.weight"), [16, 3, 11, 11]);
    assert.deepEqual(shapes.get("conve1_2.weight"), [32, 16, 7, 7]);
    assert.deepEqual(shapes.get("convgd2_2.weight"), [512, 256, 3, 3]);
    assert.deepEqual(shapes.get("conv_rnn4.weight"), [32, 128, 3, 3]);
    assert.deepEqual(shapes.get("convd1_2.bias"), [3]);
    assert.equal(info.tensors.length, 44);
    assert.ok(info.tensors.every((t) => t.dtype === "F32"));
    const floats = info.tensors.reduce((s, t) => s + t.shape.reduce((p, d) => p * d, 1), 0);
    assert.equal(floats, 9_227_027);
    // The layout conversion: file[o][i][ky][kx] == tfjs[ky][kx][i][o].
    const bytes = await Deno.readFile(path);
    const raw = decodeSafetensors(bytes, path).tensors.get("conve1_2.weight")!;
    const file = new Float32Array(raw.data.slice().buffer);
    const w = a.weights.find((w) => w.name === "conve1_2.weight")!.variable
      .arraySync() as number[][][][];
    for (const [o, i, ky, kx] of [[0, 0, 0, 0], [31, 15, 6, 6], [5, 9, 2, 4], [17, 3, 6, 1]]) {
      assert.equal(file[((o * 16 + i) * 7 + ky) * 7 + kx], w[ky][kx][i][o]);
    }
    const b = createModel("svrnn", { seed: 1 });
    await loadCheckpoint(b, path);
    for (let k = 0; k < a.weights.length; k += 7) {
      assert.equal(maxAbsDiff(a.weights[k].variable, b.weights[k].variable), 0, a.weights[k].name);
    }
    a.dispose();
    b.dispose();
  });
});

/**
 * A checkpoint written without the kit's writer, straight from the specification: an
 * 8-byte little-endian header length, a JSON header (biases listed first, no padding, so
 * the data is not even 4-byte aligned), then little-endian float32 data.
 */
function handWrittenFixture(): { bytes: Uint8Array; values: Map<string, number[]> } {
  const tensors: Array<[string, number[]]> = [
    ["convd1_2.bias", [3]],
    ["conve1_1.bias", [2]],
    ["conve1_1.weight", [2, 3, 3, 3]],
    ["conve1_2.weight", [1, 2, 3, 3]],
    ["conve1_2.bias", [1]],
    ["conv_mid1.weight", [1, 1, 3, 3]],
    ["conv_mid1.bias", [1]],
    ["convd1_1.weight", [2, 2, 1, 1]],
    ["convd1_1.bias", [2]],
    ["convd1_2.weight", [3, 4, 1, 1]],
  ];
  const values = new Map<string, number[]>();
  let header = '{"__metadata__":{"format":"pt","writer":"by hand"}';
  let offset = 0;
  tensors.forEach(([name, shape], t) => {
    const n = shape.reduce((a, b) => a * b, 1);
    // Exactly representable values, distinct per index so a wrong layout shows.
    values.set(name, Array.from({ length: n }, (_, i) => (((i * 7 + t * 3) % 17) - 8) / 16));
    header += `,"${name}":{"dtype":"F32","shape":[${shape.join(",")}],"data_offsets":[${offset},${
      offset + 4 * n
    }]}`;
    offset += 4 * n;
  });
  header += "}";
  const headerBytes = new TextEncoder().encode(header);
  const bytes = new Uint8Array(8 + headerBytes.length + offset);
  let len = headerBytes.length;
  for (let i = 0; i < 8; i++) {
    bytes[i] = len & 0xff; // little-endian u64
    len = Math.floor(len / 256);
  }
  bytes.set(headerBytes, 8);
  const view = new DataView(bytes.buffer);
  let pos = 8 + headerBytes.length;
  for (const [name] of tensors) {
    for (const v of values.get(name)!) {
      view.setFloat32(pos, v, true);
      pos += 4;
    }
  }
  return { bytes, values };
}

Deno.test("a checkpoint written byte by byte from the spec loads, and its conv matches a hand computation", async () => {
  await initBackend("cpu");
  await withTempDir(async (dir) => {
    const { bytes, values } = handWrittenFixture();
    const path = `${dir}/fixture.safetensors`;
    await Deno.writeFile(path, bytes);
    const model = createModel("cnn-small", {
      residual: false,
      e1Channels: 2,
      rnnChannels: 1,
      depth: 1,
      width: 1,
      e1Kernel: 3,
      e2Kernel: 3,
      d1Kernel: 1,
      d2Kernel: 1,
    });
    const { metadata } = await loadCheckpoint(model, path);
    assert.equal(metadata.writer, "by hand");
    const H = 4, W = 6; // multiples of 2: no padding in the way
    const xs = Array.from({ length: H * W * 3 }, (_, i) => ((i * 5) % 11) / 10);
    const x = tf.tensor4d(xs, [1, H, W, 3]);
    const a = model.analyze(x);
    const e1 = a.intermediates.e1.arraySync()[0] as number[][][];
    const w = values.get("conve1_1.weight")!; // [out=2][in=3][ky=3][kx=3]
    const b = values.get("conve1_1.bias")!;
    const px = (y: number, xx: number, c: number) =>
      y < 0 || y >= H || xx < 0 || xx >= W ? 0 : xs[(y * W + xx) * 3 + c];
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        for (let o = 0; o < 2; o++) {
          let s = b[o];
          for (let i = 0; i < 3; i++) {
            for (let ky = 0; ky < 3; ky++) {
              for (let kx = 0; kx < 3; kx++) {
                s += w[((o * 3 + i) * 3 + ky) * 3 + kx] * px(y + ky - 1, xx + kx - 1, i);
              }
            }
          }
          const want = s > 0 ? s : 0.1 * s; // LReLU 0.1
          assert.ok(
            Math.abs(e1[y][xx][o] - want) < 1e-5,
            `e1[${y}][${xx}][${o}] ${e1[y][xx][o]} vs ${want}`,
          );
        }
      }
    }
    // The 1x1 output conv too: out = convd1_2(concat(e1, up)), weights [3][4][1][1].
    const up = tf.tidy(() =>
      tf.image.resizeBilinear(
        tf.leakyRelu(
          tf.add(
            tf.conv2d(
              tf.concat([a.intermediates.e2, a.intermediates["mid/1"]], 3) as tf.Tensor4D,
              tf.tensor4d(values.get("convd1_1.weight")!, [2, 2, 1, 1]).transpose([
                2,
                3,
                1,
                0,
              ]) as tf.Tensor4D,
              1,
              "valid",
            ),
            tf.tensor1d(values.get("convd1_1.bias")!),
          ),
          0.1,
        ) as tf.Tensor4D,
        [H, W],
        false,
        true,
      ).arraySync()[0]
    );
    const out = a.output.arraySync()[0];
    const wd = values.get("convd1_2.weight")!, bd = values.get("convd1_2.bias")!;
    for (const [y, xx] of [[0, 0], [3, 4], [2, 1]]) {
      const feat = [...e1[y][xx], ...up[y][xx]];
      for (let o = 0; o < 3; o++) {
        const want = bd[o] + feat.reduce((s, f, i) => s + wd[o * 4 + i] * f, 0);
        assert.ok(Math.abs(out[y][xx][o] - want) < 1e-5, `out[${y}][${xx}][${o}]`);
      }
    }
    tf.dispose([x, a.output, ...Object.values(a.intermediates)]);
    model.dispose();
  });
});

Deno.test("a mismatched checkpoint is refused with every missing, unexpected, mis-shaped tensor in one error", async () => {
  await initBackend("cpu");
  await withTempDir(async (dir) => {
    const a = createModel("svrnn-small");
    const path = `${dir}/a.safetensors`;
    await saveCheckpoint(a, path);
    const { tensors, metadata } = decodeSafetensors(await Deno.readFile(path), path);
    const entries: Array<[string, TensorToWrite]> = [];
    for (const [name, t] of tensors) {
      if (name === "conv_rnn4.bias") continue; // missing
      if (name === "convd1_2.weight") {
        entries.push([name, {
          dtype: "F32",
          shape: [3, 32, 3, 3],
          data: new Float32Array(3 * 32 * 9),
        }]);
      } else if (name === "conve1_1.bias") {
        entries.push([name, { dtype: "U8", shape: [16], data: new Uint8Array(16) }]);
      } else {
        entries.push([name, {
          dtype: "F32",
          shape: t.shape,
          data: new Float32Array(t.data.slice().buffer),
        }]);
      }
    }
    entries.push(["extra.weight", { dtype: "F32", shape: [2], data: new Float32Array(2) }]);
    entries.push(["optimizer.step", { dtype: "I32", shape: [], data: new Int32Array([3]) }]);
    const bad = `${dir}/bad.safetensors`;
    await Deno.writeFile(bad, encodeSafetensors(entries, metadata));
    const b = createModel("svrnn-small", { seed: 3 });
    const snapshot = b.weights.map((w) => w.variable.clone());
    await assert.rejects(() => loadCheckpoint(b, bad), (e: unknown) => {
      assert.ok(e instanceof CheckpointMismatchError);
      assert.deepEqual(e.missing, ["conv_rnn4.bias"]);
      assert.deepEqual(e.unexpected, ["extra.weight"]);
      assert.equal(e.wrongShape.length, 1);
      assert.equal(e.wrongDtype.length, 1);
      assert.match(e.message, new RegExp(`checkpoint ${bad} does not match model "svrnn-small"`));
      assert.match(e.message, /1 missing \(conv_rnn4\.bias\)/);
      assert.match(e.message, /1 unexpected \(extra\.weight\)/);
      assert.match(e.message, /convd1_2\.weight is \[3,32,3,3\], model needs \[3,32,5,5\]/);
      assert.match(e.message, /conve1_1\.bias is U8, model needs F32/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
    // Nothing was assigned.
    b.weights.forEach((w, i) => assert.equal(maxAbsDiff(w.variable, snapshot[i]), 0, w.name));
    // Another variant's checkpoint: the error says which model wrote it.
    const c = createModel("svrnn-small-2block");
    await assert.rejects(
      () => loadCheckpoint(c, path),
      /does not match model "svrnn-small-2block" \(it was written by "svrnn-small"\): 4 unexpected \(conv_rnn3\.weight, conv_rnn3\.bias, conv_rnn4\.weight, conv_rnn4\.bias\); 2 with the wrong shape \(convgd2_2\.weight is \[256,32,3,3\], model needs \[128,32,3,3\], convgd2_2\.bias is \[256\], model needs \[128\]\)/,
    );
    tf.dispose(snapshot);
    [a, b, c].forEach((m) => m.dispose());
  });
});

Deno.test("truncated, corrupt and missing files are refused with a clear error naming the file", async () => {
  await initBackend("cpu");
  await withTempDir(async (dir) => {
    const a = createModel("svrnn-small", { gate: "fixed" });
    const path = `${dir}/good.safetensors`;
    await saveCheckpoint(a, path);
    const good = await Deno.readFile(path);
    const headerLen = Number(new DataView(good.buffer).getBigUint64(0, true));
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ["empty", new Uint8Array(0), /truncated or not a safetensors file: 0 bytes/],
      ["cut in the length", good.slice(0, 5), /truncated or not a safetensors file: 5 bytes/],
      ["cut in the header", good.slice(0, 8 + 20), /truncated: header of \d+ bytes announced/],
      [
        "cut in the data",
        good.slice(0, Math.floor(good.length / 2)),
        /truncated: the tensors need/,
      ],
      ["one byte short", good.slice(0, good.length - 1), /truncated: the tensors need/],
      ["trailing bytes", new Uint8Array([...good, 1, 2, 3, 4]), /corrupt: 4 bytes after/],
      [
        "garbage header",
        (() => {
          const b = good.slice();
          b[8] = 0x7b;
          b[9] = 0xff;
          return b;
        })(),
        /corrupt header \(not UTF-8 JSON\)/,
      ],
      [
        "huge header length",
        (() => {
          const b = good.slice();
          new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
          return b;
        })(),
        /corrupt or not a safetensors file: header length/,
      ],
      [
        "not a safetensors file",
        new TextEncoder().encode("hello, I am a PNG file honestly"),
        /not a safetensors|truncated/,
      ],
      [
        "overlapping offsets",
        (() => {
          const h = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + headerLen)));
          const name = Object.keys(h).find((k) =>
            k !== "__metadata__" && h[k].data_offsets[0] > 0
          )!;
          h[name].data_offsets = h[name].data_offsets.map((v: number) => v - 4);
          const text = new TextEncoder().encode(JSON.stringify(h));
          const b = new Uint8Array(8 + text.length + good.length - 8 - headerLen);
          new DataView(b.buffer).setBigUint64(0, BigInt(text.length), true);
          b.set(text, 8);
          b.set(good.subarray(8 + headerLen), 8 + text.length);
          return b;
        })(),
        /corrupt header: tensor .* starts at byte|corrupt/,
      ],
    ];
    for (const [what, bytes, pattern] of cases) {
      const p = `${dir}/${what.replaceAll(" ", "_")}.safetensors`;
      await Deno.writeFile(p, bytes);
      await assert.rejects(() => loadCheckpoint(a, p), (e: unknown) => {
        assert.ok(e instanceof SafetensorsError, `${what}: ${e}`);
        assert.ok(e.message.startsWith(`${p}: `), `${what}: ${e.message}`);
        assert.match(e.message, pattern, what);
        return true;
      });
    }
    await assert.rejects(
      () => loadCheckpoint(a, `${dir}/nope.safetensors`),
      /nope\.safetensors: no such file/,
    );
    a.dispose();
  });
});
