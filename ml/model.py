"""The CRNN: convolutional features, a bidirectional LSTM over columns, a linear CTC head.

Shi et al. 2016 (CRNN) as refined by Puigcerver 2017: batch norm in every conv block, pooling
that halves the height often but the width only twice (CTC needs several frames per character),
dropout around the recurrent layers. Sized to read about 100 lines/s on a 2-core CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ml.charset import DEFAULT_CHARSET


@dataclass(frozen=True)
class ModelConfig:
    height: int = 40  # input line height in pixels; widths vary
    # One 3x3 conv (+ batch norm + LeakyReLU) per entry, then max-pooling by (rows, columns).
    conv_channels: tuple[int, ...] = (32, 64, 96, 96, 128, 128)
    conv_pools: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (1, 1), (2, 1), (1, 1), (1, 1))
    projection: int = 256  # column features are projected to this size before the LSTM
    lstm_hidden: int = 256  # per direction
    lstm_layers: int = 2
    dropout: float = 0.15
    num_classes: int = field(default=len(DEFAULT_CHARSET))  # blank included

    def __post_init__(self):
        if len(self.conv_channels) != len(self.conv_pools):
            raise ValueError("conv_channels and conv_pools must have the same length")
        if self.height % self.row_reduction:
            raise ValueError(f"height {self.height} is not divisible by {self.row_reduction}")

    @property
    def row_reduction(self) -> int:
        return _product(p[0] for p in self.conv_pools)

    @property
    def column_reduction(self) -> int:
        """Input columns per output frame."""
        return _product(p[1] for p in self.conv_pools)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        data = dict(data)
        data["conv_channels"] = tuple(data["conv_channels"])
        data["conv_pools"] = tuple(tuple(p) for p in data["conv_pools"])
        return cls(**data)


def _product(values) -> int:
    result = 1
    for v in values:
        result *= v
    return result


class CRNN(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        in_channels = 1
        for out_channels, pool in zip(config.conv_channels, config.conv_pools, strict=True):
            layers += [
                nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.LeakyReLU(0.1, inplace=True),
            ]
            if pool != (1, 1):
                layers.append(nn.MaxPool2d(pool, pool))
            in_channels = out_channels
        self.cnn = nn.Sequential(*layers)
        rows = config.height // config.row_reduction
        self.project = nn.Sequential(
            nn.Linear(in_channels * rows, config.projection),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Dropout(config.dropout),
        )
        self.lstm = nn.LSTM(
            config.projection,
            config.lstm_hidden,
            num_layers=config.lstm_layers,
            bidirectional=True,
            dropout=config.dropout if config.lstm_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(
            nn.Dropout(config.dropout), nn.Linear(2 * config.lstm_hidden, config.num_classes)
        )

    def frame_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        """Output frames for input widths (floor division, as max-pooling does)."""
        lengths = widths
        for _, pool_w in self.config.conv_pools:
            lengths = torch.div(lengths, pool_w, rounding_mode="floor")
        return lengths.clamp(min=1)

    def forward(
        self, images: torch.Tensor, widths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (T, B, classes) and frame lengths (B,) for images (B, 1, H, W)."""
        features = self.cnn(images)  # (B, C, H', T)
        b, c, h, t = features.shape
        features = features.permute(3, 0, 1, 2).reshape(t, b, c * h)  # (T, B, C*H')
        features = self.project(features)  # (T, B, P)
        lengths = self.frame_lengths(widths).clamp(max=t)
        packed = pack_padded_sequence(features, lengths.cpu(), enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = pad_packed_sequence(output, total_length=t)  # (T, B, 2*hidden)
        return self.head(output), lengths

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
