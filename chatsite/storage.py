"""Static files in production: whitenoise's compressed, hashed files, ES module imports included."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's storage, also pointing ES module imports at hashed names.

    Django leaves `import ... from "./room/connection.js"` unhashed by default:
    the page would then load a module cached for 60 s beside a room.js that is
    cached for good, and a change to a module would not change room.js's name.
    """

    support_js_module_import_aggregation = True
