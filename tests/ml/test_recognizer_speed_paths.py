"""The recognizer's fast paths read exactly what the plain PyTorch path reads.

ONNX Runtime instead of PyTorch, the network running in a background thread, lines decoded as
their batch comes: none of it may change a reading. Uses the committed model and its LM.
"""

import numpy as np
import pytest

from ml import recognizer as recognizer_module
from ml.checkpoint import load_model
from ml.errors import ImageError
from ml.images import prepare_line
from ml.lm import CharNgramLM
from ml.onnx_runtime import OnnxCRNN
from ml.page.budget import Deadline, PageBudget
from ml.recognizer import DEFAULT_MODEL, LM_FILE_NAME, Recognizer, line_log_probs
from tests.ml.conftest import render_clean

TEXTS = (
    "Call Ann",
    "Meeting notes for Tuesday, 14 March",
    "the quick brown fox jumps over the lazy dog",
    "42 rue de la Paix",
    "ok",
    "Ideas: buy milk, bread and eggs before the weekend",
)


@pytest.fixture(scope="module")
def model_parts():
    return load_model(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def lm():
    return CharNgramLM.load(DEFAULT_MODEL.with_name(LM_FILE_NAME))


@pytest.fixture(scope="module")
def recognizers(model_parts, lm):
    """The committed model and LM on ONNX Runtime and on PyTorch."""
    model, charset, metadata = model_parts
    return {
        runtime: Recognizer(model, charset, metadata, lm=lm, runtime=runtime)
        for runtime in ("onnx", "torch")
    }


@pytest.fixture(scope="module")
def line_images(fonts):
    """Rendered lines of very different widths, in a print and a handwriting font."""
    chosen = [f for f in fonts if f.name == "roboto"]
    chosen += [f for f in fonts if f.style == "handwriting" and f.split == "test"][:1]
    return [render_clean(text, font) for font in chosen for text in TEXTS]


def test_onnx_runtime_is_the_default_network(recognizers, model_parts):
    model, charset, metadata = model_parts
    assert isinstance(Recognizer(model, charset, metadata).network, OnnxCRNN)
    assert recognizers["torch"].network is recognizers["torch"].model


def test_onnx_runtime_reads_like_pytorch(recognizers, line_images):
    onnx, torch_path = recognizers["onnx"], recognizers["torch"]
    for beam_width in (None, 1):  # beam search with the LM, and greedy
        fast = onnx.recognize(line_images, beam_width=beam_width, alternatives=3)
        plain = torch_path.recognize(line_images, beam_width=beam_width, alternatives=3)
        assert [r.text for r in fast] == [r.text for r in plain]
        assert [[w.text for w in r.words] for r in fast] == [
            [w.text for w in r.words] for r in plain
        ]
        assert [r.confidence for r in fast] == pytest.approx(
            [r.confidence for r in plain], abs=1e-3
        )
    assert sum(r.text == text for r, text in zip(fast, TEXTS * 2, strict=True)) >= len(TEXTS)


def test_onnx_log_probabilities_match_pytorch(recognizers, line_images):
    lines = [prepare_line(image, recognizers["onnx"].height) for image in line_images]
    fast = line_log_probs(recognizers["onnx"].network, lines)
    plain = line_log_probs(recognizers["torch"].model, lines)
    assert [lp.shape for lp in fast] == [lp.shape for lp in plain]
    for a, b in zip(fast, plain, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-3)


def test_heavy_padding_is_read_as_pytorch_reads_it(recognizers, line_images):
    # One batch of very different widths: ONNX Runtime's LSTM must start each line's backward
    # pass at the line's own end, as PyTorch's packed sequences do, not at the batch's end.
    lines = [prepare_line(image, recognizers["onnx"].height) for image in line_images]
    assert max(line.shape[1] for line in lines) > 4 * min(line.shape[1] for line in lines)
    fast = line_log_probs(recognizers["onnx"].network, lines, batch_size=len(lines))
    plain = line_log_probs(recognizers["torch"].model, lines, batch_size=len(lines))
    for a, b in zip(fast, plain, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-3)


def test_lines_come_back_in_input_order_across_chunks_and_batches(
    recognizers, line_images, monkeypatch
):
    onnx = recognizers["onnx"]
    one_by_one = [onnx.recognize([image])[0].text for image in line_images]
    monkeypatch.setattr(recognizer_module, "CHUNK_LINES", 5)
    monkeypatch.setattr(onnx, "batch_size", 2)
    assert [r.text for r in onnx.recognize(line_images)] == one_by_one


def test_an_unreadable_image_read_in_the_background_reaches_the_caller(
    recognizers, line_images, tmp_path
):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageError, match="Cannot read image"):
        recognizers["onnx"].recognize([line_images[0], bad, line_images[1]])


def test_under_a_deadline_lines_are_read_in_input_order(recognizers, line_images):
    onnx = recognizers["onnx"]
    expired = Deadline(PageBudget(seconds=0.0))
    assert onnx.recognize(line_images, deadline=expired) == [None] * len(line_images)
    greedy_only = Deadline(PageBudget(seconds=600.0, beam_share=0.0))
    greedy = [r.text for r in onnx.recognize(line_images, beam_width=1)]
    assert [r.text for r in onnx.recognize(line_images, deadline=greedy_only)] == greedy


def test_an_unknown_runtime_is_refused(model_parts):
    model, charset, metadata = model_parts
    with pytest.raises(ValueError, match="Unknown runtime 'tpu'"):
        Recognizer(model, charset, metadata, runtime="tpu")


def test_without_onnx_runtime_lines_are_read_with_pytorch(model_parts, monkeypatch, caplog):
    def missing(model):
        raise ImportError("No module named 'onnxruntime'")

    monkeypatch.setattr(recognizer_module, "OnnxCRNN", missing)
    model, charset, metadata = model_parts
    recognizer = Recognizer(model, charset, metadata)
    assert recognizer.network is recognizer.model
    assert "Reading lines with PyTorch" in caplog.text
    with pytest.raises(ImportError, match="onnxruntime"):
        Recognizer(model, charset, metadata, runtime="onnx")
