"""Make clean line images look like phone photos and scans of real paper.

Every function takes and returns a 2-D uint8 array. Geometric ones take the value to fill
uncovered pixels with: 255 (paper) for finished images, 0 for ink masks.
Recipe after HTR-best-practices (Retsinas et al. 2022): slant/shear, small rotation, elastic
distortion, stroke width, blur, noise, brightness/contrast/gamma; plus JPEG artifacts, lighting
gradients and low resolution, which phone photos of notes are full of.
"""

from __future__ import annotations

import cv2
import numpy as np


def shear(image: np.ndarray, amount: float, fill: int) -> np.ndarray:
    """Slant: x' = x + amount * (y - h/2); the canvas widens so nothing is cut off."""
    h, w = image.shape
    extra = int(abs(amount) * h) + 1
    matrix = np.float32([[1, -amount, extra / 2 + amount * h / 2], [0, 1, 0]])
    return cv2.warpAffine(
        image,
        matrix,
        (w + extra, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


def rotate(image: np.ndarray, degrees: float, fill: int) -> np.ndarray:
    h, w = image.shape
    radians = np.deg2rad(abs(degrees))
    new_h = int(h * np.cos(radians) + w * np.sin(radians)) + 1
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    matrix[1, 2] += (new_h - h) / 2
    return cv2.warpAffine(
        image,
        matrix,
        (w, new_h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


def elastic(
    image: np.ndarray, rng: np.random.Generator, strength: float, fill: int, grain: float = 24.0
) -> np.ndarray:
    """Smooth random displacement: pen wobble, paper bending. `strength` is in pixels."""
    h, w = image.shape
    gh, gw = max(2, int(h / grain) + 2), max(2, int(w / grain) + 2)
    dx = cv2.resize(
        rng.normal(0, strength, (gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    dy = cv2.resize(
        rng.normal(0, strength, (gh, gw)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        image, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
    )


def bend(image: np.ndarray, rng: np.random.Generator, amplitude: float, fill: int) -> np.ndarray:
    """A wavy baseline: each column shifts vertically along a low-frequency sine."""
    h, w = image.shape
    phase, periods = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 1.5)
    shift = amplitude * np.sin(phase + np.linspace(0, 2 * np.pi * periods, w, dtype=np.float32))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        image,
        xs,
        ys + shift[None, :],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


def stroke_width(image: np.ndarray, pixels: int, ink_is_bright: bool) -> np.ndarray:
    """Thicker (pixels > 0) or thinner (< 0) strokes."""
    if pixels == 0:
        return image
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(pixels) + 1, abs(pixels) + 1))
    thicken = pixels > 0
    grow_bright = thicken == ink_is_bright
    return cv2.dilate(image, kernel) if grow_bright else cv2.erode(image, kernel)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma) if sigma > 0.1 else image


def motion_blur(image: np.ndarray, length: int, horizontal: bool) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    if horizontal:
        kernel[length // 2, :] = 1.0 / length
    else:
        kernel[:, length // 2] = 1.0 / length
    return cv2.filter2D(image, -1, kernel)


def noise(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    noisy = image.astype(np.float32) + rng.normal(0, sigma, image.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE) if ok else image


def low_resolution(image: np.ndarray, factor: float) -> np.ndarray:
    """Down- then up-sample: a distant or cheap camera."""
    h, w = image.shape
    small = cv2.resize(
        image, (max(2, int(w / factor)), max(2, int(h / factor))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def contrast(image: np.ndarray, gain: float, bias: float, gamma: float) -> np.ndarray:
    unit = image.astype(np.float32) / 255.0
    unit = np.clip(unit * gain + bias, 0, 1) ** gamma
    return (unit * 255.0).astype(np.uint8)


def lighting(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Uneven light: a linear gradient in a random direction plus a soft shadow blob."""
    h, w = image.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / max(w, 1) + np.sin(angle) * ys / max(h, 1)) * strength
    cx, cy, radius = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.3, 1.0) * w
    blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2)) * strength * 0.7
    shaded = image.astype(np.float32) - ramp - blob + strength / 2
    return np.clip(shaded, 0, 255).astype(np.uint8)


def augment_photo(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Camera and scanner effects on a finished line image (dark ink on light paper)."""
    if rng.random() < 0.35 * strength:
        image = lighting(image, rng, rng.uniform(10, 60))
    if rng.random() < 0.3 * strength:
        image = low_resolution(image, rng.uniform(1.3, 2.6))
    if rng.random() < 0.4 * strength:
        image = blur(image, rng.uniform(0.3, 1.4))
    elif rng.random() < 0.08 * strength:
        image = motion_blur(image, int(rng.integers(3, 6)), bool(rng.random() < 0.7))
    if rng.random() < 0.5 * strength:
        image = contrast(
            image, rng.uniform(0.7, 1.2), rng.uniform(-0.1, 0.15), rng.uniform(0.7, 1.4)
        )
    if rng.random() < 0.5 * strength:
        image = noise(image, rng, rng.uniform(2, 14))
    if rng.random() < 0.4 * strength:
        image = jpeg(image, int(rng.integers(25, 90)))
    return image


def augment_real(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light geometric and photometric variation of a real line, labels unchanged."""
    if rng.random() < 0.5:
        image = shear(image, rng.uniform(-0.25, 0.25), fill=_paper_level(image))
    if rng.random() < 0.3:
        image = rotate(image, rng.uniform(-1.5, 1.5), fill=_paper_level(image))
    if rng.random() < 0.3:
        image = elastic(
            image,
            rng,
            rng.uniform(0.5, 1.5),
            fill=_paper_level(image),
            grain=max(8.0, image.shape[0] / 3),
        )
    if rng.random() < 0.25:
        scale = image.shape[0] / 64
        image = stroke_width(
            image, int(rng.choice([-1, 1, 2]) * max(1, round(scale))), ink_is_bright=False
        )
    return augment_photo(image, rng, strength=0.7)


def _paper_level(image: np.ndarray) -> int:
    return int(np.percentile(image, 80))
