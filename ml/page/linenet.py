"""LineNet: a small fully convolutional net that finds the text lines of a page.

The approach of kraken's `blla` and of dhSegment: a U-Net-like encoder-decoder over the whole
page predicts, per pixel at half the input resolution, whether it lies in a line's *core band*
(between baseline and x-height, see `ml.page.targets`) and on its baseline. Paper grain, ruling,
holes, stains and rulers are background because the training pages say so; it is the context
of several line heights (the encoder goes down to 1/32) that tells writing from texture.

Sized for a 2-core CPU: the page is scaled so its longer side is `long_side` pixels, and the
expensive full-resolution layers are few and narrow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ml.checkpoint import check_payload, float_state, read_payload, write_payload
from ml.errors import CheckpointError

BAND, BASELINE = 0, 1  # output channels


@dataclass(frozen=True)
class LineNetConfig:
    long_side: int = 1280  # pages are scaled so their longer side is this many pixels
    widths: tuple[int, ...] = (16, 32, 48, 64, 96)  # channels at 1/2, 1/4, ... of the input
    context_dilations: tuple[int, ...] = (2, 4)  # dilated convs at the deepest level
    outputs: int = 2  # band, baseline

    @property
    def reduction(self) -> int:
        """Input size must be a multiple of this (it is padded to one)."""
        return 2 ** len(self.widths)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LineNetConfig:
        data = dict(data)
        for key in ("widths", "context_dilations"):
            data[key] = tuple(data[key])
        return cls(**data)


def _conv(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class LineNet(nn.Module):
    def __init__(self, config: LineNetConfig):
        super().__init__()
        self.config = config
        widths = config.widths
        self.down = nn.ModuleList()
        c_in = 1
        for width in widths:
            self.down.append(nn.Sequential(_conv(c_in, width, stride=2), _conv(width, width)))
            c_in = width
        self.context = nn.Sequential(
            *(_conv(widths[-1], widths[-1], dilation=d) for d in config.context_dilations)
        )
        # Decoder: each level adds the upsampled coarser features (projected by a 1x1 conv)
        # to its skip connection, then one 3x3 conv. Adding instead of concatenating halves
        # the cost of the half-resolution level, the most expensive of the net.
        self.lateral = nn.ModuleList(
            nn.Conv2d(widths[i + 1], widths[i], 1, bias=False) for i in range(len(widths) - 1)
        )
        self.up = nn.ModuleList(_conv(widths[i], widths[i]) for i in range(len(widths) - 1))
        self.head = nn.Conv2d(widths[0], config.outputs, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, outputs, H/2, W/2) for images (B, 1, H, W), H and W multiples of
        `config.reduction`; ink is bright (1.0) on dark paper (0.0)."""
        skips = []
        x = images
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.context(x) + x
        for i in reversed(range(len(self.up))):
            skip = skips[i]
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = self.up[i](skip + self.lateral[i](x))
        return self.head(x)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


REQUIRED_KEYS = ("format_version", "kind", "model_config", "model_state", "metadata")


def save_linenet(
    path: str | Path, model: LineNet, metadata: dict, *, half: bool = False, **training_state
) -> None:
    """Write a segmenter model file (with training_state: a resumable checkpoint) atomically."""
    write_payload(path, model, {"kind": "linenet"}, metadata, half=half, **training_state)


def load_linenet_checkpoint(path: str | Path) -> dict:
    """The validated raw dictionary of a segmenter file."""
    payload = read_payload(path, "segmenter file")
    if not isinstance(payload, dict) or payload.get("kind") != "linenet":
        raise CheckpointError(f"{path} is not a line segmenter file")
    check_payload(path, payload, REQUIRED_KEYS)
    return payload


def load_linenet(path: str | Path) -> tuple[LineNet, dict]:
    """Model (eval mode, float32, CPU) and metadata of a segmenter file."""
    payload = load_linenet_checkpoint(path)
    try:
        model = LineNet(LineNetConfig.from_dict(payload["model_config"]))
        model.load_state_dict(float_state(payload))
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        raise CheckpointError(f"{path} does not match the segmenter code: {err}") from err
    return model.eval(), payload["metadata"]
