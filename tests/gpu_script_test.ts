/**
 * bench/gpu.sh, the prepared GPU run (docs/backends.md#the-gpu-run): its quick mode end to end
 * on whatever WebGPU adapter this machine has (Mesa's llvmpipe on GPU-less machines), and the
 * pieces of lib/bench/gpu.ts that need no adapter. Only the presence and sanity of what the file
 * records is checked, never how long anything took.
 */
import assert from "node:assert/strict";
import { probeWebGPU } from "../lib/backends/select.ts";
import { peakBandwidth, planTraining } from "../lib/bench/gpu.ts";
import type { GpuBenchFile, TrainingRecord } from "../lib/cli/bench_gpu.ts";
import { shippedCheckpointFile } from "../lib/records/paths.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const adapter = await probeWebGPU();

function positive(v: unknown, what: string): void {
  assert.equal(typeof v, "number", `${what} is a number`);
  assert.ok(Number.isFinite(v as number) && (v as number) > 0, `${what} = ${v}`);
}

function finite(v: unknown, what: string): void {
  assert.equal(typeof v, "number", `${what} is a number`);
  assert.ok(Number.isFinite(v as number), `${what} = ${v}`);
}

/** A phase that ran: neither {"error"} nor {"skipped"}. */
function ran<T>(p: T | { error: string } | { skipped: string }, what: string): T {
  assert.ok(p && typeof p === "object", `${what} is recorded`);
  assert.ok(!("error" in p), `${what} failed: ${(p as { error?: string }).error}`);
  assert.ok(!("skipped" in p), `${what} was skipped: ${(p as { skipped?: string }).skipped}`);
  return p as T;
}

Deno.test("gpu bench: the card table gives the vendor's spec bandwidth, or null", () => {
  assert.equal(peakBandwidth("NVIDIA H200")?.bytesPerSec, 4.8e12);
  assert.equal(peakBandwidth("", "NVIDIA H100 PCIe")?.bytesPerSec, 2.0e12);
  assert.equal(peakBandwidth("NVIDIA H100 80GB HBM3")?.bytesPerSec, 3.35e12);
  assert.match(peakBandwidth("NVIDIA H200")!.source, /vendor spec/);
  assert.equal(peakBandwidth("llvmpipe (LLVM 15.0.6, 256 bits)"), null);
  assert.equal(peakBandwidth(undefined, ""), null);
});

Deno.test("gpu bench: the training plan fits the steps in the time after the start-up", () => {
  const p = planTraining(100, { stepsPerSec: 10, firstStepMs: 5000 });
  assert.equal(p.startupSec, 10);
  assert.equal(p.steps, Math.floor(90 * 10 * 0.8));
  assert.equal(planTraining(100, { stepsPerSec: 10, firstStepMs: 5000 }, { maxSteps: 4 }).steps, 4);
  assert.equal(planTraining(5, { stepsPerSec: 10, firstStepMs: 5000 }).steps, 0);
});

Deno.test({
  name: "gpu bench: bash bench/gpu.sh --quick writes the whole file (needs a WebGPU adapter)",
  ignore: adapter === null,
  // The child processes' WebGPU devices and files are theirs; only this test's own are checked.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "svrnn-gpu-test-" });
    try {
      const out = `${dir}/gpu.json`;
      const env = { ...Deno.env.toObject() };
      delete env.OUT;
      const r = await new Deno.Command("bash", {
        // A budget well above the quick run's minute, so a busy machine slows it without
        // making it skip a phase.
        args: [`${ROOT}bench/gpu.sh`, "--quick", "--budget-min", "8", "--out", out],
        cwd: ROOT,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, `bench/gpu.sh --quick exited ${r.code}:\n${log.slice(-3000)}`);
      const f: GpuBenchFile = JSON.parse(await Deno.readTextFile(out));

      assert.equal(f.benchmark, "gpu");
      assert.equal(f.quick, true);
      assert.equal(f.complete, true);
      assert.match(f.backend, /^webgpu /);
      positive(f.budget.minutes, "budget.minutes");
      positive(f.budget.elapsedSec, "budget.elapsedSec");

      const a = ran(f.adapter, "adapter");
      assert.ok(a.info.description.length > 0, "adapter description");
      assert.equal(typeof a.info.vendor, "string");
      assert.equal(typeof a.info.architecture, "string");
      assert.ok(a.tfjs, "tfjs-backend-webgpu's adapterInfo");
      positive(a.limits.maxStorageBufferBindingSize, "maxStorageBufferBindingSize");
      if (a.peak === null) assert.equal(peakBandwidth(a.info.description, a.info.device), null);

      const g = ran(f.gateScan, "gateScan");
      assert.deepEqual(g.shape, f.shapes.gate);
      assert.deepEqual(g.records.map((x) => x.pass).sort(), ["backward", "forward"]);
      for (const x of g.records) {
        positive(x.ms, `gate ${x.pass} ms`);
        positive(x.gbPerS, `gate ${x.pass} GB/s`);
        if (a.peak) positive(x.fractionOfPeak, `gate ${x.pass} fraction of peak`);
        else assert.equal(x.fractionOfPeak, null);
      }

      const fw = ran(f.forward, "forward");
      assert.deepEqual(fw.input, [1, f.shapes.forward.height, f.shapes.forward.width, 3]);
      positive(fw.ms, "forward ms");
      positive(fw.megapixelsPerSec, "forward megapixels/s");
      positive(fw.params, "forward params");

      for (
        const [key, shape] of [["trainStep", f.shapes.step], [
          "throughput",
          f.shapes.throughput,
        ]] as const
      ) {
        const s = ran(f[key], key);
        assert.equal(s.model, shape.model);
        assert.equal(s.batch, shape.batch);
        positive(s.ms, `${key} ms`);
        positive(s.firstStepMs, `${key} first step ms`);
        positive(s.stepsPerSec, `${key} steps/s`);
        positive(s.patchesPerSec, `${key} patches/s`);
      }

      const t: TrainingRecord = ran(f.training, "training");
      assert.equal(t.status, "done", t.message ?? "");
      positive(t.plan.steps, "planned steps");
      assert.equal(t.steps, t.plan.steps);
      positive(t.wallSec, "training wall s");
      positive(t.patchesPerSec, "training patches/s");
      positive(t.data.trainPairs, "training pairs");
      // A fifth stage of the released controlled model, not a run from scratch.
      assert.ok(
        t.command.includes(`--init ${shippedCheckpointFile("svrnn-small-controlled")} `),
        t.command,
      );
      assert.ok(t.checkpoint && t.released, "checkpoint and released weights");
      for (const p of [t.checkpoint, t.released]) {
        assert.ok((await Deno.stat(`${dir}/${p}`)).size > 0);
      }
      const e = ran(t.evaluation, "evaluation");
      positive(e.images, "evaluated images");
      finite(e.meanPsnr, "mean PSNR");
      finite(e.gainPsnr, "PSNR gain");
      positive(e.meanSsim, "mean SSIM");

      assert.equal(typeof f.provenance.commit, "string");
      assert.ok(f.provenance.date && f.provenance.deno && f.provenance.tfjs, "provenance");
      assert.match(f.provenance.command, /^bash bench\/gpu\.sh --quick/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
