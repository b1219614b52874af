"""`make screenshots` keeps working: the script photographs the running site into PNG files."""

from __future__ import annotations

import struct

import pytest

from scripts.screenshots import VIEWPORT, take

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_screenshots_are_taken_from_the_running_site(tmp_path):
    """Dashboard and room, light and dark: four PNGs the size of the viewport, each a real picture."""
    written = take(out_dir=tmp_path)

    assert sorted(path.name for path in written) == [
        "dashboard-dark.png",
        "dashboard-light.png",
        "room-dark.png",
        "room-light.png",
    ]
    for path in written:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
        assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])
        assert len(data) > 20_000  # a page, not a blank
    assert (tmp_path / "room-light.png").read_bytes() != (tmp_path / "room-dark.png").read_bytes()
