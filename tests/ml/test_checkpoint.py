import pytest
import torch

from ml.charset import DEFAULT_CHARSET
from ml.checkpoint import load_checkpoint, load_model, save_model
from ml.errors import CheckpointError
from ml.model import CRNN
from tests.ml.conftest import TINY_MODEL


def test_model_file_round_trips_weights_config_charset_and_metadata(tmp_path):
    model = CRNN(TINY_MODEL)
    path = tmp_path / "m.pt"
    save_model(path, model, DEFAULT_CHARSET, {"metrics": {"cer": 0.1}})
    loaded, charset, metadata = load_model(path)
    assert loaded.config == TINY_MODEL
    assert charset == DEFAULT_CHARSET
    assert metadata["metrics"] == {"cer": 0.1}
    assert {"created", "torch_version", "code_version"} <= metadata.keys()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name])
    assert not loaded.training


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "none.pt")


def test_file_missing_required_keys_names_them(tmp_path):
    path = tmp_path / "partial.pt"
    torch.save({"format_version": 1, "charset": "ab"}, path)
    with pytest.raises(CheckpointError, match="model_config, model_state, metadata"):
        load_checkpoint(path)


def test_garbage_file_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="Cannot read model file"):
        load_model(path)


def test_charset_that_does_not_match_the_head_is_refused(tmp_path):
    path = tmp_path / "m.pt"
    save_model(path, CRNN(TINY_MODEL), DEFAULT_CHARSET, {})
    payload = torch.load(path, weights_only=True)
    payload["charset"] = "abc"
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="outputs for 4 classes"):
        load_model(path)
