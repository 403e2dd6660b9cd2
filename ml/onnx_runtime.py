"""The CRNN on ONNX Runtime: PyTorch's log-probabilities, computed about 1.4x faster on a CPU.

Measured on a 2-core AMD EPYC (AVX2, no bfloat16), one thread, CPU time per line of fr-test:
24.6 ms against 33.7 ms for PyTorch with folded batch norm and channels-last; both halves gain
(convolutions ~12 vs 16 ms, LSTM ~11 vs 18 ms). PyTorch stays the engine for training and
validation; only `Recognizer` reads through this module.

The model is exported in memory when a recognizer loads (a second or two), so new weights need
no extra step and no second file. Padding: PyTorch's packed sequences (which do not export)
start the backward LSTM at each line's own end; ONNX's LSTM does the same given each line's
frame count as `sequence_lens`, an input the exporter leaves empty and `export` fills in. Without
it, the backward pass would first read a batch's padding and change the shorter lines' readings.
Log-probabilities agree with PyTorch's to ~1e-4.
"""

from __future__ import annotations

import copy
import io
import warnings

import numpy as np
import torch
from torch import nn

from ml.model import CRNN

OPSET = 17
_LSTM_SEQUENCE_LENS = 4  # position of sequence_lens among the inputs of ONNX's LSTM


class _Unpacked(nn.Module):
    """CRNN.forward without packed sequences (they do not export): log-probabilities out."""

    def __init__(self, model: CRNN):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        model = self.model
        features = model.cnn(images)  # (B, C, H', T)
        b, c, h, t = features.shape
        features = model.project(features.permute(3, 0, 1, 2).reshape(t, b, c * h))
        output, _ = model.lstm(features)  # (T, B, 2*hidden); `export` adds the lengths
        return model.head(output).log_softmax(-1)  # (T, B, classes)


def export(model: CRNN) -> bytes:
    """The model as an ONNX graph: inputs images (B, 1, H, W) and lengths (B,) in frames."""
    unpacked = _Unpacked(copy.deepcopy(model).to(memory_format=torch.contiguous_format))
    unpacked.eval()  # the exporter restores the mode it found: eval, so dropout stays off
    buffer = io.BytesIO()
    # Tracing runs the model once; oneDNN's LSTM would first spend ~1 s preparing its kernels.
    with warnings.catch_warnings():
        # The exporter's note on LSTMs with batches (what `lengths` is for), oneDNN's on TF32.
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=False):
            torch.onnx.export(
                unpacked,
                (torch.zeros(2, 1, model.config.height, 64),),
                buffer,
                dynamo=False,  # the TorchScript exporter: one LSTM node per layer
                input_names=["images"],
                output_names=["log_probs"],
                dynamic_axes={
                    "images": {0: "batch", 3: "width"},
                    "log_probs": {0: "frames", 1: "batch"},
                },
                opset_version=OPSET,
            )
    return _with_lengths(buffer.getvalue(), model.config.lstm_layers)


def _with_lengths(exported: bytes, lstm_layers: int) -> bytes:
    """The graph with a `lengths` input (B,) feeding every LSTM node's sequence_lens."""
    import onnx

    graph = onnx.load_from_string(exported)
    graph.graph.input.append(
        onnx.helper.make_tensor_value_info("lengths", onnx.TensorProto.INT32, ["batch"])
    )
    lstms = [node for node in graph.graph.node if node.op_type == "LSTM"]
    assert len(lstms) == lstm_layers, "the exporter writes one LSTM node per layer"
    for node in lstms:
        node.input.extend([""] * (_LSTM_SEQUENCE_LENS + 1 - len(node.input)))  # optional inputs
        node.input[_LSTM_SEQUENCE_LENS] = "lengths"
    onnx.checker.check_model(graph)
    return graph.SerializeToString()


class OnnxCRNN:
    """A CRNN exported to ONNX Runtime; called like `CRNN.forward`, returns numpy arrays."""

    def __init__(self, model: CRNN, *, threads: int | None = None):
        """Raises ImportError without onnxruntime, or without onnx (the export needs it)."""
        import onnx  # noqa: F401  (torch's exporter would raise its own error type instead)
        import onnxruntime as ort

        self.model = model
        options = ort.SessionOptions()
        # PyTorch's thread count is what callers set (NOTES_MODEL_THREADS, --threads).
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # No busy-waiting between operators: the decoder's Python thread, or other workers on
        # the machine, get the cores instead (measured on a busy 2-core machine: ~10% faster).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            export(model), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, images: torch.Tensor, widths: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Log-probabilities (T, B, classes) and frame lengths (B,) for images (B, 1, H, W)."""
        lengths = self.model.frame_lengths(widths).numpy().astype(np.int32)
        (log_probs,) = self.session.run(None, {"images": images.numpy(), "lengths": lengths})
        return log_probs, lengths
