import torch

from ml.model import CRNN, ModelConfig
from ml.recognizer import fuse_for_inference
from tests.ml.conftest import TINY_MODEL


def test_output_frames_follow_the_input_widths():
    model = CRNN(TINY_MODEL).eval()
    images = torch.rand(2, 1, TINY_MODEL.height, 64)
    logits, lengths = model(images, torch.tensor([64, 40]))
    assert logits.shape == (64 // 4, 2, TINY_MODEL.num_classes)
    assert lengths.tolist() == [16, 10]


def test_padding_does_not_change_a_line_reading():
    model = CRNN(TINY_MODEL).eval()
    line = torch.rand(1, 1, TINY_MODEL.height, 40)
    alone, _ = model(line, torch.tensor([40]))
    padded = torch.zeros(1, 1, TINY_MODEL.height, 80)
    padded[..., :40] = line
    with_padding, _ = model(padded, torch.tensor([40]))
    # The recurrent part never sees padded frames; only the convolutions' receptive field at
    # the right edge differs (padding after batch norm is not exactly zero), a small effect.
    assert torch.allclose(alone[:10], with_padding[:10], atol=5e-3)


def test_fused_inference_model_gives_the_same_outputs():
    model = CRNN(ModelConfig()).eval()
    with torch.no_grad():
        for module in model.modules():  # non-trivial batch-norm statistics
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    images, widths = torch.rand(3, 1, 40, 120), torch.tensor([120, 100, 60])
    with torch.inference_mode():
        expected, _ = model(images, widths)
        fused = fuse_for_inference(model)
        actual, _ = fused(images.contiguous(memory_format=torch.channels_last), widths)
    assert torch.allclose(expected, actual, atol=1e-4)


def test_config_round_trips_through_a_dict():
    assert ModelConfig.from_dict(ModelConfig().to_dict()) == ModelConfig()
