"""The int8 peers a user compares intedge with (ExecuTorch XNNPACK's pt2e static int8 and 8da4w, LiteRT's
dynamic and static int8) build from the zoo ViT, run, and score within a few points of the float model on
100 test images: a broken recipe shows here as lost accuracy, not as a fast number in a table."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch

from intedge.converters import zoo
from intedge.converters.evaluate import predict_torch
from intedge.profilers import peers

SAMPLES = 100
CALIBRATION = 8  # ranges only; the accuracy bound below holds with this few
POINTS = 3  # how far below float a peer's top-1 may fall, on 100 images


@pytest.fixture(scope="module")
def vit():
    """The model, 100 batch-1 test inputs, their labels and the float model's top-1 on them."""
    spec = zoo.get("vit-fmnist")
    model = spec.build()
    (images,), labels = spec.test_set()
    images, labels = images[:SAMPLES], labels[:SAMPLES]
    return model, [(x[None],) for x in images], labels, spec.evaluate(predict_torch(model, (images,), 50), labels)


def _score(vit, program: bytes, runner) -> float:
    _, inputs, labels, _ = vit
    return zoo.get("vit-fmnist").evaluate(peers.predict(partial(runner, program, threads=1), inputs), labels)


def test_predict_stacks_each_input_output(vit):
    model, inputs, _, _ = vit
    stacked = peers.predict(partial(peers.torch_runner, model, threads=1), inputs[:3])
    with torch.no_grad():
        expected = np.concatenate([model(torch.from_numpy(x)).numpy() for (x,) in inputs[:3]])
    np.testing.assert_allclose(stacked, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("build", [peers.executorch_int8_program, peers.litert_int8_model])
def test_unknown_scheme_is_refused(vit, build):
    with pytest.raises(ValueError, match="int8 scheme 'w2'"):
        build(vit[0], vit[1][0], [], "w2")


@pytest.mark.slow
@pytest.mark.parametrize("scheme", peers.EXECUTORCH_INT8)
def test_executorch_int8_accuracy(vit, scheme):
    pytest.importorskip("executorch")
    model, inputs, _, float_top1 = vit
    calibration = zoo.get("vit-fmnist").calibration_set(CALIBRATION)
    program = peers.executorch_int8_program(model, inputs[0], calibration, scheme)
    assert float_top1 - POINTS <= _score(vit, program, peers.executorch_runner)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", peers.LITERT_INT8)
def test_litert_int8_accuracy(vit, scheme):
    pytest.importorskip("litert_torch")  # the 'litert' extra, outside 'all' (pyproject.toml says why)
    model, inputs, _, float_top1 = vit
    calibration = zoo.get("vit-fmnist").calibration_set(CALIBRATION)
    tflite = peers.litert_int8_model(model, inputs[0], calibration, scheme)
    assert float_top1 - POINTS <= _score(vit, tflite, peers.litert_runner)
