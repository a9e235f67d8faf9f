"""The plugin host: entry points, PMHUB_LOAD_PLUGINS, isolation of a broken plugin, hookspecs."""

from __future__ import annotations

import inspect
import sys
import types

from click.testing import CliRunner

from hub import hookimpl, hookspecs
from hub.cli import main
from hub.plugins import build_plugin_manager


def test_builtins_register_through_the_pmhub_entry_point_group():
    host = build_plugin_manager()
    assert {"github", "jira", "trello", "zoho_crm", "reference"} <= set(host.versions)
    assert "reference" in host.connectors
    assert host.failures == []


def test_load_plugins_env_restricts_loading(monkeypatch):
    monkeypatch.setenv("PMHUB_LOAD_PLUGINS", "reference")
    host = build_plugin_manager()
    assert set(host.versions) == {"reference"}
    monkeypatch.setenv("PMHUB_LOAD_PLUGINS", "")
    assert build_plugin_manager().connectors == {}


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_still_load(tmp_path, monkeypatch):
    dist = tmp_path / "brokenplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[pmhub]\nbroken = brokenplug\n")
    (tmp_path / "brokenplug.py").write_text("raise ImportError('needs a library that is not installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = build_plugin_manager()
    assert [f.plugin for f in host.failures] == ["broken"]
    assert "needs a library that is not installed" in host.failures[0].error
    assert "reference" in host.connectors
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 1
    assert "broken" in result.output and "reference" in result.output


def test_a_plugin_whose_hook_raises_does_not_take_the_others_down():
    bad = types.ModuleType("bad_plugin")

    @hookimpl
    def register_connectors(register):
        raise RuntimeError("bug in plugin")

    bad.register_connectors = register_connectors  # type: ignore[attr-defined]
    host = build_plugin_manager(extra=(bad,))
    assert any("bug in plugin" in f.error for f in host.failures)
    assert "reference" in host.connectors


def test_pmhub_plugins_lists_connectors_record_types_and_capabilities(monkeypatch):
    monkeypatch.setenv("PMHUB_LOAD_PLUGINS", "reference")
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "reference" in result.output and "issue" in result.output and "incremental" in result.output


def test_every_hookspec_is_documented_and_typed():
    specs = [fn for name, fn in vars(hookspecs).items() if name.startswith("register_")]
    assert specs
    for spec in specs:
        assert spec.__doc__ and len(spec.__doc__.strip()) > 40, spec.__name__
        signature = inspect.signature(spec)
        assert all(p.annotation is not inspect.Parameter.empty for p in signature.parameters.values())


def test_pmhub_help_imports_no_tool_client_library():
    import subprocess

    code = ("import sys; from hub.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('jira', 'github', 'zohocrmsdk', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]"), out
