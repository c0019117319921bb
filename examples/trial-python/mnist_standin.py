"""A stand-in for the trial of examples/experiment-random.yaml, the design's
own example, whose image (Katib's katib/mxnet-mnist-example) trains an MXNet
model on MNIST by running

  python /mxnet/example/image-classification/train_mnist.py --batch-size=64 \
      --lr=0.02 --num-layers=3 --optimizer=sgd

This program takes the same flags and prints what that image prints, in the
same form, so that a metrics collector reading its output (Katib's StdOut
collector, or knobs-collector -kind StdOut) finds the same metrics:

  INFO:root:Epoch[0] Batch [300]	Speed: 9012.34 samples/sec	accuracy=0.853125
  INFO:root:Epoch[0] Train-accuracy=0.891234
  INFO:root:Epoch[0] Time cost=0.000
  INFO:root:Epoch[0] Validation-accuracy=0.912345

Like MXNet's Speedometer it prints the accuracy every --disp-batches
batches (300 here, to keep the reports few), for --num-epochs epochs (5).
It trains nothing: the accuracies follow a learning curve whose ceiling and
speed depend on the flags (a learning rate near 0.02 and 3 or 4 layers do
best; adam learns fastest, ftrl slowest), with a little noise seeded by the
flags, so that a run is quick and repeatable. Nothing here is MNIST.
"""

import argparse
import math
import random
import sys


def parse(argv):
    ap = argparse.ArgumentParser(description="Prints the output of an MXNet MNIST training, without training.")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--num-layers", type=int, default=2)
    ap.add_argument("--optimizer", choices=["sgd", "adam", "ftrl"], default="sgd")
    ap.add_argument("--num-epochs", type=int, default=5)
    ap.add_argument("--disp-batches", type=int, default=300)
    ap.add_argument("--num-examples", type=int, default=60000)
    args = ap.parse_args(argv)
    if min(args.lr, args.batch_size, args.num_layers, args.num_epochs, args.disp_batches) <= 0:
        ap.error("--lr, --batch-size, --num-layers, --num-epochs and --disp-batches must be positive")
    return args


def main(argv):
    args = parse(argv)
    rng = random.Random("%s/%s/%s/%s" % (args.lr, args.num_layers, args.optimizer, args.batch_size))
    # The ceiling: best at lr 0.02 and 3.5 layers.
    ceiling = 0.985 - 0.6 * math.log(args.lr / 0.02) ** 2 * 0.05 - 0.006 * (args.num_layers - 3.5) ** 2
    ceiling = max(0.5, min(0.989, ceiling))
    speed = {"adam": 1.2, "sgd": 0.7, "ftrl": 0.35}[args.optimizer]
    batches = args.num_examples // args.batch_size
    for epoch in range(args.num_epochs):
        progress = 1 - math.exp(-speed * (epoch + 1))
        train = ceiling * (0.2 + 0.8 * progress) + rng.gauss(0, 0.002)
        for batch in range(args.disp_batches, batches, args.disp_batches):
            acc = train * (0.97 + 0.03 * batch / batches) + rng.gauss(0, 0.005)
            print("INFO:root:Epoch[%d] Batch [%d]\tSpeed: %.2f samples/sec\taccuracy=%f"
                  % (epoch, batch, 9000 + rng.gauss(0, 200), min(acc, 1.0)), flush=True)
        print("INFO:root:Epoch[%d] Train-accuracy=%f" % (epoch, min(train, 1.0)), flush=True)
        print("INFO:root:Epoch[%d] Time cost=%.3f" % (epoch, 0.0), flush=True)
        valid = min(train - 0.01 + rng.gauss(0, 0.003), 1.0)
        print("INFO:root:Epoch[%d] Validation-accuracy=%f" % (epoch, valid), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
