"""apps/android/core — the Android demo's logic that needs no Android — on the host JVM: the Python side
writes what the app must reproduce (the zoo's tokenizer ids, the zoo's image tensors, the engine's input
quantizer, the class names), then javac builds core and its JUnit 4 tests and JUnitCore runs them all.

Needs a JDK (javac, java) and Debian's junit4 (with hamcrest); the APK itself cannot be built here (no
Android SDK platform or NDK): docs/android.md."""

from __future__ import annotations

import base64
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
from java_toolchain import JUNIT_CLASSPATH, javac, require

from intedge.converters.data import fashion_mnist as fm
from intedge.integer_ops.quantize import quantize_input

CORE = Path(__file__).resolve().parent.parent / "apps" / "android" / "core"
FIXTURES_PROPERTY = "intedge.core.fixtures"  # read by core's src/test/.../Fixtures.java
SEQ_LEN = 128  # converters/zoo/minilm.py SEQ_LEN: the MiniLM graph's sequence length
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # core's ImageInputSpec, RGB


# ---- the tokenizer: the zoo's ids for real sentences, awkward ones, and every assigned code point

AWKWARD_SENTENCES = [
    "", "   ", "Héllo, Wörld!", "naïve café résumé façade", "İstanbul ΟΔΟΣ straße ǅemal", "你好，世界。",
    "日本語のテキストと漢字", "한국어 텍스트", "emoji 😀👍🏽 test", "don't stop-believing... (really?)",
    "tabs\tand\nnewlines\r\nand\u2028separators", "soft\u00adhyphen zero\u200bwidth joiner\u200d",
    "a" * 150, "supercalifragilisticexpialidocious antidisestablishmentarianism", "3.14159 1,000,000 $5 #1 @me",
    "https://example.com/a?b=c&d=e#f", " ".join(["tokens"] * 200), "\x00nul\ufffdrepl\x7fdel",
    "Ａｂｃ fullwidth ｶﾀｶﾅ", "x² + y² = z²", "e\u0301 combining vs é", "ﬁ ligature Ⅻ numeral", "«quotes» „low“",
]


CJK_BLOCKS = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))  # HF tokenizers' BertNormalizer's


def _by_rule(c: int) -> str:
    """What BERT's normaliser and pre-tokenizer do with code point c inside a word, by its category in
    Python's Unicode tables: drop it, split there, make it a word of its own, or keep it in the word."""
    ch, category = chr(c), unicodedata.category(chr(c))
    if c in (0, 0xFFFD) or (category in ("Cc", "Cf", "Co", "Mn") and ch not in "\t\n\r"):
        return "dropped"
    if category in ("Zs", "Zl", "Zp") or ch in "\t\n\r":
        return "split"
    cjk = any(lo <= c <= hi for lo, hi in CJK_BLOCKS)
    return "own word" if cjk or category.startswith("P") or (ch.isascii() and not ch.isalnum()) else "in word"


def _where_hf_follows_its_rules(tokenizer) -> list[int]:
    """The assigned code points (Python's Unicode) that HF tokenizers handles in "a?b" as its rules say on
    Python's Unicode tables. Its own tables are older: it keeps some 400 newer marks and format
    characters, and splits off a few more, which the JVM (whose tables are older than Python's, newer
    than HF's) classifies as Python does."""
    points = [c for c in range(0x110000) if unicodedata.category(chr(c)) not in ("Cn", "Cs")]
    inside = tokenizer([f"a{chr(c)}b" for c in points], add_special_tokens=False)["input_ids"]
    apart = tokenizer([f"a {chr(c)} b" for c in points], add_special_tokens=False)["input_ids"]
    dropped_ids = tokenizer("ab", add_special_tokens=False)["input_ids"]
    split_ids = tokenizer("a b", add_special_tokens=False)["input_ids"]
    kept = []
    for c, ids, ids_apart in zip(points, inside, apart):
        seen = ("dropped" if ids == dropped_ids else "split" if ids == split_ids
                else "own word" if ids == ids_apart else "in word")
        if seen == _by_rule(c):
            kept.append(c)
    return kept


def _write_tokenizer_cases(folder: Path) -> int:
    from transformers import AutoTokenizer

    from intedge.converters.zoo import minilm

    tokenizer = AutoTokenizer.from_pretrained(str(minilm.model_dir()))  # minilm.tokenize's, here with its options
    points = _where_hf_follows_its_rules(tokenizer)
    every_point = [" ".join(f"a{chr(c)}b" for c in points[i:i + 40]) for i in range(0, len(points), 40)]
    sentences = minilm.stdlib_sentences(200) + AWKWARD_SENTENCES + every_point
    ids, mask = minilm.tokenize(sentences)  # the zoo's call: padding to SEQ_LEN, truncation
    assert ids.shape == (len(sentences), SEQ_LEN)
    with open(folder / "tokenizer.tsv", "w", encoding="ascii") as f:
        for text, row, row_mask in zip(sentences, ids, mask):
            f.write(f"{base64.b64encode(text.encode()).decode()}\t{' '.join(map(str, row))}\t"
                    f"{' '.join(map(str, row_mask))}\n")
    shutil.copy(minilm.model_dir() / "vocab.txt", folder / "vocab.txt")
    return len(sentences)


# ---- images: the zoo's own test tensors, and generated photos through the zoo's rules

def _python_tensor(argb: np.ndarray, width: int, height: int, size: int, channels: int, invert: bool):
    """The zoo's preparation of a photo: centred square, nearest resize with fashion_mnist.scenes' index
    rule, PIL's luma, /255 and fashion_mnist.normalize (RGB: ImageNet's constants the same way)."""
    from PIL import Image

    rgb = np.stack([(argb >> s) & 0xFF for s in (16, 8, 0)], -1).astype(np.uint8).reshape(height, width, 3)
    side = min(width, height)
    top, left = (height - side) // 2, (width - side) // 2
    index = (np.arange(size) * side) // size
    square = rgb[top:top + side, left:left + side][index][:, index]
    planes = np.asarray(Image.fromarray(square).convert("L"))[None] if channels == 1 else square.transpose(2, 0, 1)
    if invert:
        planes = 255 - planes
    x = planes.astype(np.float32) / 255.0
    if channels == 1:
        return fm.normalize(x)
    return ((x - np.float32(IMAGENET_MEAN)[:, None, None]) / np.float32(IMAGENET_STD)[:, None, None])[None]


def _grey_argb(values01: np.ndarray) -> np.ndarray:
    v = np.rint(values01 * 255).astype(np.int64)
    return (0xFF << 24 | v << 16 | v << 8 | v).astype(np.uint32).view(np.int32).ravel()


def _write_image_cases(folder: Path) -> int:
    """Each case: "width height size channels invert", the ARGB pixels, the expected float32 bits (hex)."""
    cases = []
    test_images, _ = fm.load("test")  # the zoo's vit-fmnist test set: fm.normalize of these
    for k in range(3):
        cases.append((_grey_argb(test_images[k]), 28, 28, 28, 1, False, fm.normalize(test_images[k:k + 1])))
    canvases, _ = fm.scenes("test", 2)  # the first of segmenter-fmnist's test scenes
    for canvas in canvases:
        cases.append((_grey_argb(canvas), 48, 48, 48, 1, False, fm.normalize(canvas[None])))
    rng = np.random.default_rng(17)
    for width, height, size, channels, invert in [(37, 23, 28, 1, False), (23, 37, 28, 1, True), (28, 28, 28, 1, False),
                                                  (10, 14, 28, 1, False), (300, 200, 48, 1, True),
                                                  (64, 48, 32, 3, False), (51, 77, 32, 3, True)]:
        argb = rng.integers(0, 2**32, width * height, dtype=np.uint64).astype(np.uint32).view(np.int32)
        cases.append((argb, width, height, size, channels, invert,
                      _python_tensor(argb.astype(np.int64) & 0xFFFFFFFF, width, height, size, channels, invert)))
    with open(folder / "images.txt", "w") as f:
        for argb, width, height, size, channels, invert, expected in cases:
            assert expected.shape == (1, channels, size, size) and expected.dtype == np.float32
            f.write(f"{width} {height} {size} {channels} {str(invert).lower()}\n{' '.join(map(str, argb))}\n")
            f.write(" ".join(f"{b:08x}" for b in expected.ravel().view(np.uint32)) + "\n")
    return len(cases)


def _write_quantize_cases(folder: Path) -> None:
    """Each case: "scale bytes", the float32 inputs' bits, the engine quantizer's integers."""
    rng = np.random.default_rng(3)
    special = np.float32([0.125, 0.375, 0.625, -0.125, -0.375, np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0])
    with open(folder / "quantize.txt", "w") as f:
        for scale, dtype, nbytes in [(0.25, "int8", 1), (0.0213, "int8", 1), (0.0213, "int16", 2), (3e-5, "int16", 2)]:
            x = np.concatenate([special, (rng.standard_normal(200) * 3).astype(np.float32)])
            q = quantize_input(x, 1.0 / scale, dtype)  # inv_scale as converters/lower.py writes it
            f.write(f"{scale!r} {nbytes}\n{' '.join(f'{b:08x}' for b in x.view(np.uint32))}\n")
            f.write(" ".join(map(str, q)) + "\n")


def test_android_core_on_host_jvm(tmp_path):
    require("the Android core tests")
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    sentences = _write_tokenizer_cases(fixtures)
    images = _write_image_cases(fixtures)
    _write_quantize_cases(fixtures)
    (fixtures / "classes.txt").write_text("\n".join(fm.CLASSES) + "\n")
    assert sentences > 7000 and images == 12

    main_classes, test_classes = tmp_path / "main", tmp_path / "test"
    junit = JUNIT_CLASSPATH
    # --release 8: core's code uses only Java 8's library, which Android's API 26 (minSdk) has
    javac(CORE / "src/main/java", main_classes, "--release", "8")
    javac(CORE / "src/test/java", test_classes, "-cp", f"{main_classes}:{junit}")
    tests = sorted(p.relative_to(test_classes).with_suffix("").as_posix().replace("/", ".")
                   for p in test_classes.rglob("*Test.class"))
    run = subprocess.run(["java", f"-D{FIXTURES_PROPERTY}={fixtures}", "-cp", f"{main_classes}:{test_classes}:{junit}",
                          "org.junit.runner.JUnitCore", *tests], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert tests and summary.startswith("OK ("), run.stdout[-2000:]

