"""The add-on's manifest is what Odoo and the Apps list read first: check its promises."""

import ast
import re
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "ingeneo_powens"


def read_manifest():
    return ast.literal_eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))


def test_manifest_identity():
    manifest = read_manifest()
    assert manifest["license"] == "LGPL-3"
    assert manifest["category"].startswith("Accounting")
    assert re.fullmatch(r"19\.0\.\d+\.\d+\.\d+", manifest["version"])
    assert {"account", "mail"} <= set(manifest["depends"])
    assert {"requests", "cryptography"} <= set(manifest["external_dependencies"]["python"])
    for key in ("name", "summary", "author", "website"):
        assert manifest[key].strip()


def test_manifest_data_files_exist():
    manifest = read_manifest()
    missing = [name for name in manifest["data"] if not (ADDON / name).is_file()]
    assert not missing, f"data files listed but absent: {missing}"


def test_addon_folders():
    for folder in ("models", "views", "security", "data", "i18n", "tests"):
        assert (ADDON / folder).is_dir(), folder
    assert (ADDON / "static/description/icon.png").read_bytes().startswith(b"\x89PNG")
