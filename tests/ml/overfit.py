"""Train a tiny CRNN on a handful of line images until it reads them (used by tests)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ml.charset import DEFAULT_CHARSET
from ml.data import make_batch
from ml.images import prepare_line
from ml.model import CRNN, ModelConfig

WORDS = ("note", "milk 2L", "Call Ann", "9:30")


def overfit(config: ModelConfig, images, texts, steps: int = 600, lr: float = 3e-3):
    """Returns the model (eval mode) and the loss of every step.

    Each step trains on a random subset, so every line is seen both alone and padded beside
    wider ones, as at inference time.
    """
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    model = CRNN(config)
    lines = [prepare_line(image, config.height) for image in images]
    labels = [DEFAULT_CHARSET.encode(t) for t in texts]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        size = int(torch.randint(1, len(lines) + 1, (1,), generator=generator))
        chosen = torch.randperm(len(lines), generator=generator)[:size].tolist()
        batch = make_batch(
            [lines[i] for i in chosen], [labels[i] for i in chosen], [texts[i] for i in chosen]
        )
        model.train()
        logits, lengths = model(batch.images, batch.widths)
        loss = F.ctc_loss(
            logits.log_softmax(-1), batch.targets, lengths, batch.target_lengths, zero_infinity=True
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if len(losses) >= 20 and max(losses[-20:]) < 0.02:
            break
    return model.eval(), losses
