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


def test_export_halves_the_file_and_keeps_the_outputs(tmp_path):
    from ml.checkpoint import export

    model = CRNN(TINY_MODEL).eval()
    save_model(tmp_path / "full.pt", model, DEFAULT_CHARSET, {"note": "x"})
    export(tmp_path / "full.pt", tmp_path / "lean.pt")
    lean, _, metadata = load_model(tmp_path / "lean.pt")
    assert metadata["note"] == "x" and metadata["exported_from"].endswith("full.pt")
    assert (tmp_path / "lean.pt").stat().st_size < 0.6 * (tmp_path / "full.pt").stat().st_size
    images = torch.rand(1, 1, TINY_MODEL.height, 64)
    with torch.no_grad():
        expected, _ = model(images, torch.tensor([64]))
        actual, _ = lean(images, torch.tensor([64]))
    assert torch.allclose(expected, actual, atol=1e-2)
