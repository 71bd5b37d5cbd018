"""Which sheets exist, and loading one spec by id.

The full grader loads a sheet's spec from ``exercises``. A student kit has no
``exercises``: its sheets are frozen data in the ``gradekit`` package (see
``frozen``), and when that package is installed it is what grading uses.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.frozen import FrozenSheet
    from grader.spec import Sheet

SHEET_MODULES = {
    "2": "exercises.sheet2",
    "7": "exercises.sheet7",
    "9": "exercises.sheet9",
    "10": "exercises.sheet10",
}
KIT_PACKAGE = "gradekit"
KIT_MANIFEST = "manifest.json"


class UnknownSheet(KeyError):
    def __str__(self) -> str:
        return f"unknown sheet {self.args[0]!r}; known sheets: {', '.join(available())}"


class DamagedKit(Exception):
    """A kit's data is missing, altered or truncated: it must not grade."""

    def __str__(self) -> str:
        return f"this self-check kit is damaged: {self.args[0]}; reinstall it from its wheel"


@cache
def kit_manifest() -> dict[str, Any] | None:
    """The installed kit's manifest, or None in the full grader."""
    data = _kit_data()
    if data is None:
        return None
    try:
        manifest = json.loads((data / KIT_MANIFEST).read_text("utf-8"))
        if not isinstance(manifest.get("sheets"), dict):
            raise ValueError("no sheets")
    except (OSError, ValueError, AttributeError) as exc:
        raise DamagedKit(f"its manifest cannot be read ({type(exc).__name__})") from None
    return manifest


def _kit_data() -> Path | None:
    """The installed kit's data folder, found without importing the kit's package."""
    spec = importlib.util.find_spec(KIT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def available() -> list[str]:
    """Sheets this grader can grade (in numeric order): the kit's, or those with a spec."""
    manifest = kit_manifest()
    if manifest is not None:
        return sorted(manifest["sheets"], key=lambda s: (len(s), s))
    found = []
    for sheet_id, module in SHEET_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            found.append(sheet_id)
    return found


def load(sheet_id: str) -> Sheet | FrozenSheet:
    sheet_id = str(sheet_id).strip()
    if sheet_id not in available():
        raise UnknownSheet(sheet_id)
    manifest = kit_manifest()
    if manifest is not None:
        return _load_frozen(manifest, sheet_id)
    return importlib.import_module(SHEET_MODULES[sheet_id]).SHEET


def _load_frozen(manifest: dict[str, Any], sheet_id: str) -> FrozenSheet:
    import hashlib

    from grader.frozen import thaw

    entry = manifest["sheets"][sheet_id]
    try:
        data = _kit_data() or Path("-")
        core, derived = (data / entry["core"]).read_bytes(), (data / entry["derived"]).read_bytes()
        hidden, stamp, check = entry["hidden_digest"], entry["spec_hash"], entry["derived_sha256"]
    except (OSError, KeyError, TypeError) as exc:
        raise DamagedKit(f"sheet {sheet_id}'s data is missing ({type(exc).__name__})") from None
    if hashlib.sha256(derived).hexdigest() != check:
        raise DamagedKit(f"sheet {sheet_id}'s data does not match its checksum")
    return thaw(core, derived, hidden, stamp, str(manifest.get("grader_version", "unknown")))
