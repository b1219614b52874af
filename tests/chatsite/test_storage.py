"""chatsite.storage: in production every static file, ES module imports included, has a hashed name."""

from __future__ import annotations

import re

from django.core.management import call_command


def test_the_room_page_imports_its_modules_by_hashed_name(settings, tmp_path):
    """room.js names each module with its content hash, so a deploy never mixes old and new modules."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "chatsite.storage.StaticFilesStorage"},
    }

    call_command("collectstatic", "--no-input", verbosity=0)

    (room_js,) = [
        p for p in (tmp_path / "js").glob("room.*.js") if re.fullmatch(r"room\.[0-9a-f]{12}\.js", p.name)
    ]
    imports = re.findall(r'^import .* from "(.*)";$', room_js.read_text(), re.M)
    assert imports
    assert all(re.fullmatch(r"\./room/\w+\.[0-9a-f]{12}\.js", path) for path in imports), imports
