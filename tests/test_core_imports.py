"""The core (``hub/``) imports no tool's client library: those belong to the plugins.

Every ``import`` statement of every module under ``hub/`` is read with ``ast`` (lazy imports inside
functions included), so a client library cannot slip into the core behind a function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

HUB = Path(__file__).resolve().parents[1] / "hub"

#: Top-level packages of the tools' client libraries and tool-specific converters.
TOOL_CLIENTS = frozenset({"github", "jira", "jira2markdown", "zohocrmsdk", "requests"})
#: The one core module allowed plain HTTP: the client of the sandbox's own control API.
ALLOWED = {"requests": {"testing/sandbox_client.py"}}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_no_module_of_the_core_imports_a_tool_client_library() -> None:
    offenders = []
    modules = sorted(HUB.rglob("*.py"))
    assert len(modules) > 20, "the walk found the core's modules"
    for path in modules:
        relative = path.relative_to(HUB).as_posix()
        for package in imported_packages(path) & TOOL_CLIENTS:
            if relative not in ALLOWED.get(package, set()):
                offenders.append(f"hub/{relative} imports {package}")
    assert offenders == []


def test_the_walk_sees_lazy_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text("def client():\n    from github import Github\n    import jira.client\n")
    assert imported_packages(module) == {"github", "jira"}
