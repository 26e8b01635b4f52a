"""PyTorch beside the kit, for the record: times one case of `deno task bench --only torch`.

Bench-only: the kit, its tests and its notebooks never import this file or PyTorch. It reads
one JSON case on stdin from lib/bench/torch.ts: the model's config and its conv layers as
the kit declares them (lib/models/svrnn.ts, svrnnLayers), the shape, what to time (a
forward, or a training step as lib/train/step.ts takes it: the L2 loss sum/2/batch, the
gradient clipped to a global norm, weight decay added to the gradient, Adam), repetitions
and threads; it prints one JSON object with the median time and the parameter count (which
lib/bench/torch.ts checks against the kit's, so both sides time the same network).

The gate scan is the recursion h[t] = (1 - g[t]) x[t] + g[t] h[t-1] written as a loop over
the scanned axis with whole-slice tensor ops, the usual way to write it in PyTorch without a
custom kernel. Tensors are NCHW, PyTorch's default layout.
"""

import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

# The kit's direction order for cutting gate maps and for concatenating scans
# (lib/models/svrnn.ts: GATE_SLICE_ORDER and CONCAT_ORDER).
SLICE_ORDER = ["left-right", "top-bottom", "right-left", "bottom-top"]
CONCAT_ORDER = ["left-right", "right-left", "top-bottom", "bottom-top"]


def gate_scan(x, g, direction):
    """h[t] = (1 - g[t]) x[t] + g[t] h[t-1] along W or H of NCHW tensors, h[-1] = 0."""
    dim = 3 if direction in ("left-right", "right-left") else 2
    xs, gs = x.unbind(dim), g.unbind(dim)
    steps = range(len(xs) - 1, -1, -1) if direction in ("right-left", "bottom-top") else range(len(xs))
    h = torch.zeros_like(xs[0])
    out = [None] * len(xs)
    for t in steps:
        h = (1 - gs[t]) * xs[t] + gs[t] * h
        out[t] = h
    return torch.stack(out, dim)


class SVRNN(nn.Module):
    """The kit's SVRNN graph (variant gates, fused blocks) over the kit's layer list."""

    def __init__(self, config, layers):
        super().__init__()
        if config["gate"] != "variant" or not config["fuse"]:
            raise ValueError("torch_reference: only variant gates with fused blocks")
        self.c = config
        self.convs = nn.ModuleDict({
            l["name"]: nn.Conv2d(l["inC"], l["outC"], l["kernel"], l["stride"], l["kernel"] // 2)
            for l in layers
        })
        self.dirs = [d for d in CONCAT_ORDER if d in config["directions"]]
        self.slice = [d for d in SLICE_ORDER if d in config["directions"]]

    def conv(self, name, x, act=None):
        y = self.convs[name](x)
        if act == "relu":
            return F.relu(y)
        if act == "lrelu":
            return F.leaky_relu(y, self.c["leakySlope"])
        return y

    def gate_logits(self, x):
        up = lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)
        pool = lambda t: F.max_pool2d(t, 2, 2)
        r = lambda n, t: self.conv(n, t, "relu")
        p1 = pool(r("convg1_2", r("convg1_1", x)))
        g2 = r("convg2_2", r("convg2_1", p1))
        g3 = r("convg3_2", r("convg3_1", pool(g2)))
        p3 = pool(r("convg3_3", g3))
        g4 = r("convg4_3", r("convg4_2", r("convg4_1", p3)))
        d1 = r("convgd1_2", r("convgd1", torch.cat([g3, up(g4)], 1)))
        d2 = r("convgd2", torch.cat([g2, up(d1)], 1))
        return self.conv("convgd2_2", d2)

    def forward(self, x):
        e1 = self.conv("conve1_1", x, "lrelu")
        e2 = self.conv("conve1_2", e1)
        nd = len(self.dirs)
        maps = torch.split(self.gate_logits(x), self.c["rnnChannels"], 1) if self.c["numBlocks"] else []
        h = e2
        for k in range(self.c["numBlocks"]):
            scans = [gate_scan(h, torch.tanh(maps[k * nd + self.slice.index(d)]), d) for d in self.dirs]
            h = self.conv(f"conv_rnn{k + 1}", torch.cat(scans, 1), "lrelu")
        d1 = self.conv("convd1_1", torch.cat([e2, h], 1), "lrelu")
        up = F.interpolate(d1, scale_factor=2, mode="bilinear", align_corners=False)
        out = self.conv("convd1_2", torch.cat([e1, up], 1))
        return out + x if self.c["residual"] else out


def main():
    case = json.load(sys.stdin)
    torch.set_num_threads(case["threads"])
    torch.manual_seed(0)
    model = SVRNN(case["config"], case["layers"])
    n, h, w = case["batch"], case["height"], case["width"]
    x = torch.rand(n, 3, h, w)
    train = case["what"] == "train"
    if train:
        gt = torch.rand(n, 3, h, w)
        r = case["recipe"]
        opt = torch.optim.Adam(model.parameters(), lr=r["learningRate"], betas=(r["beta1"], r["beta2"]),
                               eps=r["epsilon"], weight_decay=r["weightDecay"])

        def run():
            opt.zero_grad(set_to_none=True)
            loss = ((model(x) - gt) ** 2).sum() / 2 / n
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), r["clipNorm"])
            opt.step()
    else:
        def run():
            with torch.no_grad():
                model(x)

    run()  # warm-up
    times = []
    for _ in range(case["reps"]):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    json.dump({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "params": sum(p.numel() for p in model.parameters()),
        "runsMs": times,
        "ms": statistics.median(times),
    }, sys.stdout)


if __name__ == "__main__":
    main()
