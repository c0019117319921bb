"""A trial in Python's standard library alone: a small neural network learns
to tell the two half-moons apart, and prints its metrics for a metrics
collector to read.

The data: 600 points of two interleaved half circles with Gaussian noise
(scikit-learn's "two moons"), drawn from --data-seed, 400 to train on and 200
to validate on. The model: one hidden layer of --hidden tanh units and a
sigmoid output, trained by mini-batch gradient descent with momentum on the
cross-entropy, with an L2 penalty on the weights.

Hyperparameters, as --name=value or --name value:

  --lr          learning rate (default 0.1)
  --momentum    momentum of the gradient descent (default 0.9)
  --hidden      hidden units (default 8)
  --l2          weight decay (default 1e-4)
  --batch-size  examples per step (default 16)
  --epochs      passes over the training set (default 10)
  --seed        seed of the weights and of the shuffling (default 1)
  --data-seed   seed of the data set (default 7)

After every epoch it prints one line, in Katib's name=value form:

  epoch=3 loss=0.2315 accuracy=0.9050

loss and accuracy are the validation cross-entropy and accuracy; a metrics
collector takes the epoch on the same line for the step. With
--metrics-file PATH it also appends them to PATH: in that same text form,
or, with --metrics-format=json, as one JSON object a line, as Katib's
File collector reads them:

  {"epoch": "3", "loss": "0.2315", "accuracy": "0.9050", "timestamp": 1767225600.0}

It exits 2 on bad flags. Ten epochs take well under a second.
"""

import argparse
import json
import math
import random
import sys
import time


def moons(n, noise, rng):
    """n points of two interleaved half circles, labels 0 and 1."""
    points = []
    for i in range(n):
        label = i % 2
        t = math.pi * rng.random()
        if label == 0:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
        points.append(((x + rng.gauss(0, noise), y + rng.gauss(0, noise)), label))
    rng.shuffle(points)
    return points


def standardize(train, valid):
    """Scales both features to zero mean and unit variance on train."""
    mean = [sum(p[0][j] for p in train) / len(train) for j in range(2)]
    std = [math.sqrt(sum((p[0][j] - mean[j]) ** 2 for p in train) / len(train)) for j in range(2)]

    def scale(points):
        return [(tuple((x[j] - mean[j]) / std[j] for j in range(2)), y) for x, y in points]

    return scale(train), scale(valid)


class Network:
    """One hidden layer of tanh units, a sigmoid output."""

    def __init__(self, hidden, rng):
        self.w1 = [[rng.gauss(0, 1 / math.sqrt(2)) for _ in range(2)] for _ in range(hidden)]
        self.b1 = [0.0] * hidden
        self.w2 = [rng.gauss(0, 1 / math.sqrt(hidden)) for _ in range(hidden)]
        self.b2 = 0.0

    def forward(self, x):
        h = [math.tanh(w[0] * x[0] + w[1] * x[1] + b) for w, b in zip(self.w1, self.b1)]
        z = sum(w * v for w, v in zip(self.w2, h)) + self.b2
        p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        return h, p

    def evaluate(self, points):
        """Mean cross-entropy and accuracy."""
        loss, right = 0.0, 0
        for x, y in points:
            _, p = self.forward(x)
            p = min(max(p, 1e-12), 1 - 1e-12)
            loss -= math.log(p) if y else math.log(1 - p)
            right += (p >= 0.5) == bool(y)
        return loss / len(points), right / len(points)


def train_epoch(net, velocity, batches, lr, momentum, l2):
    """One pass of mini-batch gradient descent with momentum."""
    hidden = len(net.w2)
    for batch in batches:
        g1 = [[0.0, 0.0] for _ in range(hidden)]
        gb1 = [0.0] * hidden
        g2 = [0.0] * hidden
        gb2 = 0.0
        for x, y in batch:
            h, p = net.forward(x)
            d = p - y
            gb2 += d
            for k in range(hidden):
                g2[k] += d * h[k]
                dh = d * net.w2[k] * (1 - h[k] * h[k])
                g1[k][0] += dh * x[0]
                g1[k][1] += dh * x[1]
                gb1[k] += dh
        n = len(batch)
        for k in range(hidden):
            for j in range(2):
                v = velocity["w1"][k][j] = momentum * velocity["w1"][k][j] - lr * (g1[k][j] / n + l2 * net.w1[k][j])
                net.w1[k][j] += v
            v = velocity["b1"][k] = momentum * velocity["b1"][k] - lr * gb1[k] / n
            net.b1[k] += v
            v = velocity["w2"][k] = momentum * velocity["w2"][k] - lr * (g2[k] / n + l2 * net.w2[k])
            net.w2[k] += v
        velocity["b2"] = momentum * velocity["b2"] - lr * gb2 / n
        net.b2 += velocity["b2"]


def parse(argv):
    ap = argparse.ArgumentParser(description="Trains a small network on two moons and prints its metrics.")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--l2", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-seed", type=int, default=7)
    ap.add_argument("--metrics-file", default="")
    ap.add_argument("--metrics-format", choices=["text", "json"], default="text")
    args = ap.parse_args(argv)
    for name in ("lr", "hidden", "batch_size", "epochs"):
        if getattr(args, name) <= 0:
            ap.error("--%s must be positive" % name.replace("_", "-"))
    if not 0 <= args.momentum < 1:
        ap.error("--momentum must be in [0, 1)")
    if args.l2 < 0:
        ap.error("--l2 must not be negative")
    return args


def main(argv):
    args = parse(argv)
    data = moons(600, 0.2, random.Random(args.data_seed))
    train, valid = standardize(data[:400], data[400:])
    rng = random.Random(args.seed)
    net = Network(args.hidden, rng)
    velocity = {
        "w1": [[0.0, 0.0] for _ in range(args.hidden)],
        "b1": [0.0] * args.hidden,
        "w2": [0.0] * args.hidden,
        "b2": 0.0,
    }
    out = open(args.metrics_file, "a") if args.metrics_file else None
    try:
        for epoch in range(1, args.epochs + 1):
            rng.shuffle(train)
            batches = [train[i:i + args.batch_size] for i in range(0, len(train), args.batch_size)]
            train_epoch(net, velocity, batches, args.lr, args.momentum, args.l2)
            loss, accuracy = net.evaluate(valid)
            if math.isnan(loss) or math.isinf(loss):
                loss = 1e6
            metrics = [("epoch", str(epoch)), ("loss", "%.6f" % loss), ("accuracy", "%.4f" % accuracy)]
            print(" ".join("%s=%s" % m for m in metrics), flush=True)
            if out:
                if args.metrics_format == "json":
                    record = dict(metrics)
                    record["timestamp"] = time.time()
                    out.write(json.dumps(record) + "\n")
                else:
                    out.write(" ".join("%s=%s" % m for m in metrics) + "\n")
                out.flush()
    finally:
        if out:
            out.close()


if __name__ == "__main__":
    main(sys.argv[1:])
