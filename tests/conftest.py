"""Shared fixtures: users, clients, a private media folder, real images of notes."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test writes its uploads into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Templates resolve static URLs without a `collectstatic` manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def user(db):
    return UserFactory(username="alice")


@pytest.fixture
def other_user(db):
    return UserFactory(username="bob")


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def bob_client(client_factory, other_user):
    other = client_factory()
    other.force_login(other_user)
    return other


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


@pytest.fixture(scope="session")
def page_image() -> Image.Image:
    """A photographed page of handwritten notes (synthetic, real fonts)."""
    from pathlib import Path

    from ml.synth.fonts import load_fonts
    from ml.synth.page import PageStyle, render_page
    from ml.synth.text import TextSampler, Vocabulary

    font_dir = Path(__file__).resolve().parents[1] / ".cache" / "fonts"
    fonts = [f for f in load_fonts(font_dir) if f.name in {"kalam", "coming-soon"}]
    style = PageStyle(paper_width=700, paper_height=900, heading=False, paper="ruled",
                      lighting=0.2)
    page = render_page(fonts, TextSampler(Vocabulary.from_wordfreq(), random.Random(1)),
                       np.random.default_rng(1), style)
    return Image.fromarray(page.image)


def urls_for(namespace: str, args_by_name: dict[str, list]) -> list[str]:
    """The namespace's URLs for the given objects; fails when the URLconf has a route with
    an id that `args_by_name` does not list, so that a new one cannot be left untested."""
    from django.urls import get_resolver, reverse

    patterns = get_resolver().namespace_dict[namespace][1].reverse_dict.lists()
    with_ids = {name for name, found in patterns
                if isinstance(name, str) and any(p[0][0][1] for p in found)}
    assert with_ids == set(args_by_name), f"list the new {namespace} URL with an id here"
    return [reverse(f"{namespace}:{name}", args=args) for name, args in args_by_name.items()]


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.fixture
def jpeg_upload(page_image):
    def make(name: str = "notes.jpg") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, encode(page_image, "JPEG", quality=90), "image/jpeg")

    return make


@pytest.fixture
def pdf_upload(page_image):
    def make(name: str = "scan.pdf", pages: int = 2) -> SimpleUploadedFile:
        images = [page_image.convert("RGB")] * pages
        out = io.BytesIO()
        images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=100)
        return SimpleUploadedFile(name, out.getvalue(), "application/pdf")

    return make
