"""The README's Layout section and ARCHITECTURE.md describe the tree as it is."""

from __future__ import annotations

import re

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "sustainsim"


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout") :]
    start = section.index("```\n") + 4
    return section[start : section.index("\n```", start)]


def _modules() -> dict[str, set[str]]:
    """Folder (``""`` for the top) -> its module and subfolder names, private ones excluded."""
    out: dict[str, set[str]] = {}
    for p in PACKAGE.rglob("*.py"):
        rel = p.relative_to(PACKAGE)
        if p.name.startswith("_") or "drivers" in rel.parts[:-1]:
            continue
        folder = rel.parts[0] + "/" if len(rel.parts) > 1 else ""
        out.setdefault(folder, set()).add(p.name)
    out.setdefault("model/", set()).add("drivers/")
    return out


def test_readme_layout_lists_every_module():
    block = _layout_block()
    rows: dict[str, str] = {}
    folder = ""
    for row in block.splitlines():
        head = row[:14].strip()
        if head.endswith("/"):
            folder = head
        elif head:  # a top-level module row
            folder = ""
        rows[folder] = rows.get(folder, "") + " " + row
    for folder, names in _modules().items():
        mentioned = set(re.findall(r"[a-z_]+\.py|[a-z_]+/", rows.get(folder, "")))
        missing = names - mentioned
        assert not missing, f"README Layout does not list {sorted(missing)} under {folder or 'top'}"
        stale = {m for m in mentioned if m.endswith(".py")} - names
        assert not stale, (
            f"README Layout lists {sorted(stale)} under {folder or 'top'}: not in the tree"
        )


def test_architecture_names_every_subpackage():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    missing = {name for name in subpackages if f"`{name}/`" not in text}
    assert not missing, f"ARCHITECTURE.md does not describe {sorted(missing)}"
