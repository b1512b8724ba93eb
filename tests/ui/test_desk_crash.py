"""Crash output: Textual's traceback prints local variables; the desk's must not."""

from __future__ import annotations

from pathlib import Path

from hubdesk.app import make_app


async def test_fatal_error_output_has_no_locals(tmp_path: Path) -> None:
    app = make_app(tmp_path / "none")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # Built at run time so the traceback's source lines cannot contain it.
        young_persons_note = "-".join(["Zebedee", "Quarkfinch", "said"])  # noqa: F841
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            app._fatal_error()
        text = "".join(segment.text for renderable in app._exit_renderables for segment in renderable.segments)
    assert "RuntimeError" in text
    assert "Zebedee-Quarkfinch-said" not in text
