import numpy as np
import pytest
from PIL import Image

from ml.errors import ImageError
from ml.images import MAX_WIDTH_FACTOR, batch_lines, prepare_line, to_grayscale


def dark_text_line(width=200, height=50):
    image = np.full((height, width), 240, np.uint8)
    image[20:30, 20:180] = 20
    return image


def test_prepared_line_has_model_height_and_bright_ink():
    line = prepare_line(dark_text_line(), 40)
    assert line.shape == (40, 160)
    assert line.dtype == np.float32
    assert line.max() == pytest.approx(1.0)
    assert line[0, 0] == pytest.approx(0.0)


def test_pale_pencil_is_stretched_to_full_contrast():
    image = np.full((40, 200), 200, np.uint8)
    image[15:25, 20:180] = 150
    assert prepare_line(image, 40).max() == pytest.approx(1.0)


def test_blank_line_stays_blank_instead_of_amplifying_noise():
    rng = np.random.default_rng(0)
    image = (235 + rng.integers(0, 5, (40, 200))).astype(np.uint8)
    assert prepare_line(image, 40).max() < 0.25


def test_very_long_lines_are_squeezed_to_the_width_limit():
    line = prepare_line(dark_text_line(width=10_000, height=40), 40)
    assert line.shape == (40, MAX_WIDTH_FACTOR * 40)


def test_rgba_is_composited_on_white():
    rgba = np.zeros((10, 10, 4), np.uint8)  # fully transparent black
    rgba[2:4, 2:4] = (0, 0, 0, 255)
    gray = to_grayscale(Image.fromarray(rgba, "RGBA"))
    assert gray[0, 0] == 255
    assert gray[2, 2] == 0


def test_sixteen_bit_images_are_scaled_down():
    array = np.full((10, 10), 65535, np.uint16)
    array[5, 5] = 0
    gray = to_grayscale(Image.fromarray(array))
    assert gray[0, 0] == 255
    assert gray[5, 5] == 0


def test_palette_and_float_images_are_accepted():
    palette = Image.fromarray(dark_text_line()).convert("P")
    assert to_grayscale(palette)[25, 100] < 40
    floats = dark_text_line().astype(np.float32) / 255.0
    assert to_grayscale(floats)[25, 100] < 40


def test_exif_rotation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    image = Image.fromarray(dark_text_line(width=200, height=50))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    image.save(path, exif=exif)
    assert to_grayscale(path).shape == (200, 50)


def test_unreadable_file_is_an_image_error(tmp_path):
    path = tmp_path / "not-an-image.png"
    path.write_bytes(b"hello")
    with pytest.raises(ImageError, match="Cannot read image"):
        prepare_line(path, 40)


def test_tiny_images_are_refused():
    with pytest.raises(ImageError, match="too small"):
        prepare_line(np.zeros((1, 50), np.uint8), 40)


def test_batch_pads_with_paper_and_reports_widths():
    images, widths = batch_lines([np.ones((40, 30), np.float32), np.ones((40, 50), np.float32)])
    assert images.shape == (2, 1, 40, 50)
    assert widths.tolist() == [30, 50]
    assert float(images[0, 0, :, 30:].abs().sum()) == 0.0
