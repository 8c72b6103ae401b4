"""Train the zoo's Fashion-MNIST models and its language model from scratch; reproduces the committed checkpoints.

    python -m intedge.converters.zoo.train vit-fmnist
    python -m intedge.converters.zoo.train segmenter-fmnist
    python -m intedge.converters.zoo.train swin-fmnist --epochs 5
    python -m intedge.converters.zoo.train llama-fortunes

Seeded and single-process, so a rerun on the same torch build gives the same
weights. Writes converters/zoo/checkpoints/NAME.pt (float32 state dict and
the model's config) and prints the float test metric; llama-fortunes has its
own loop and fp16 checkpoint (train_llama.py).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from intedge.converters.data import fashion_mnist as fm

from . import registry
from .optim import step, warmup_cosine

SCENES_TRAIN = 20000
SCENES_TEST = 2000


def _batches(x: np.ndarray, y: np.ndarray, batch: int, rng: np.random.Generator):
    order = rng.permutation(len(x))
    for i in range(0, len(x) - batch + 1, batch):
        j = order[i:i + batch]
        yield torch.from_numpy(x[j]), torch.from_numpy(y[j])


def _train(model: nn.Module, x, y, epochs: int, lr: float, batch: int, loss_fn) -> None:
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    steps = epochs * (len(x) // batch)
    warmup = steps // 20
    sched = warmup_cosine(opt, steps, warmup)
    model.train()
    for epoch in range(epochs):
        bar = tqdm(_batches(x, y, batch, rng), total=len(x) // batch, desc=f"epoch {epoch + 1}/{epochs}")
        for xb, yb in bar:
            step(model, opt, sched, loss_fn(model(xb), yb), bar)
    model.eval()


def train(name: str, epochs: int) -> None:
    torch.manual_seed(0)
    spec = registry.ZOO[name]
    model = spec.build(weights=False).train()
    t0 = time.time()
    if name in ("vit-fmnist", "swin-fmnist"):
        images, labels = fm.load("train")
        _train(model, fm.normalize(images), labels, epochs, 1e-3, 128, nn.CrossEntropyLoss(label_smoothing=0.1))
    elif name == "segmenter-fmnist":
        canvas, labels = fm.scenes("train", SCENES_TRAIN)
        _train(model, fm.normalize(canvas), labels, epochs, 1e-3, 64, nn.CrossEntropyLoss())
    else:
        raise SystemExit(f"{name} is not trained here (its weights come from elsewhere)")
    path = registry.checkpoint_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": model.config, "state_dict": model.state_dict()}, path)
    print(f"trained {name} in {time.time() - t0:.0f} s → {path}")
    inputs, targets = spec.test_set()
    with torch.no_grad():
        pred = np.concatenate([model(torch.from_numpy(x)).numpy() for x in np.array_split(inputs[0], 100)])
    print(f"float {spec.metric}: {spec.evaluate(pred, targets):.2f}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", choices=["vit-fmnist", "segmenter-fmnist", "swin-fmnist", "llama-fortunes"])
    p.add_argument("--epochs", type=int, default=10, help="the Fashion-MNIST models' epochs")
    p.add_argument("--steps", type=int, default=None, help="llama-fortunes' optimizer steps (train_llama.STEPS)")
    args = p.parse_args(argv)
    if args.model == "llama-fortunes":
        from . import train_llama

        train_llama.train(args.steps or train_llama.STEPS)
    else:
        train(args.model, args.epochs)


if __name__ == "__main__":
    main()
