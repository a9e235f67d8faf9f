"""The plugin host: entry points, PMHUB_LOAD_PLUGINS, isolation of a broken plugin, hookspecs."""

from __future__ import annotations

import inspect
import re
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub import hookimpl, hookspecs
from hub.cli import build_cli, main
from hub.cli import sync as sync_commands
from hub.connector import Connector
from hub.errors import ConfigError
from hub.plugins import LazyConnector, build_plugin_manager

ROOT = Path(__file__).resolve().parents[1]


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
    result = CliRunner().invoke(main, ["plugins", "--all"])
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


def _install_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> None:
    """Make ``source`` an installed plugin: a module plus a dist-info with a pmhub entry point."""
    dist = tmp_path / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[pmhub]\n{name} = {name}\n")
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))


def _hookspec_names() -> list[str]:
    return sorted(name for name, fn in vars(hookspecs).items()
                  if callable(fn) and hasattr(fn, "pmhub_spec"))


def test_trace_plugins_prints_every_hook_call(monkeypatch):
    monkeypatch.setenv("PMHUB_TRACE_PLUGINS", "1")
    monkeypatch.setenv("PMHUB_LOAD_PLUGINS", "reference")
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    # Hooks no loaded plugin implements (register_mapping_dirs here) are not called at all.
    for hook in ("register_connectors", "register_transforms"):
        assert f"{hook} [hook]" in result.output
        assert f"finish {hook}" in result.output
    assert "register_connectors: plugin 'reference'" in result.output


def test_an_implementation_gets_only_the_arguments_it_names():
    called = []
    plugin = types.ModuleType("no_args_plugin")

    @hookimpl
    def register_mapping_dirs():
        called.append(True)

    plugin.register_mapping_dirs = register_mapping_dirs  # type: ignore[attr-defined]
    host = build_plugin_manager(load_entry_points=False, extra=(plugin,))
    assert called == [True]
    assert host.failures == []


class _EagerConnector(Connector):
    plugin = "eager"
    record_types = {"issue": frozenset()}


def test_a_connector_class_registered_directly_still_works():
    plugin = types.ModuleType("eager_plugin")

    @hookimpl
    def register_connectors(register):
        register(_EagerConnector)

    plugin.register_connectors = register_connectors  # type: ignore[attr-defined]
    host = build_plugin_manager(load_entry_points=False, extra=(plugin,))
    assert host.connector("eager") is _EagerConnector
    assert host.connector_origin["eager"] == __name__


def test_a_lazy_connector_is_imported_only_when_first_used(tmp_path, monkeypatch):
    (tmp_path / "lazy_tool_connector.py").write_text(
        "from hub.connector import Connector\n"
        "class LazyToolConnector(Connector):\n"
        "    plugin = 'lazytool'\n"
        "    record_types = {'issue': frozenset()}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = types.ModuleType("lazy_plugin")

    @hookimpl
    def register_connectors(register):
        register(LazyConnector("lazytool", "lazy_tool_connector:LazyToolConnector"))
        register(LazyConnector("missing", "no_such_module_here:Nothing"))

    plugin.register_connectors = register_connectors  # type: ignore[attr-defined]
    host = build_plugin_manager(load_entry_points=False, extra=(plugin,))
    assert {"lazytool", "missing"} <= set(host.connectors)
    assert host.connector_origin["lazytool"] == "lazy_tool_connector"
    assert "lazy_tool_connector" not in sys.modules
    cls = host.connector("lazytool")
    assert cls.__name__ == "LazyToolConnector" and "lazy_tool_connector" in sys.modules
    with pytest.raises(ConfigError, match="no_such_module_here"):
        host.connector("missing")


def test_a_lazy_connector_must_name_a_connector_with_that_plugin_name():
    with pytest.raises(ConfigError, match="not a Connector subclass"):
        LazyConnector("other", f"{__name__}:_EagerConnector").load()


def test_two_plugins_claiming_one_connector_name_is_reported_naming_both():
    plugin = types.ModuleType("clashing_plugin")

    @hookimpl
    def register_connectors(register):
        register(LazyConnector("reference", "somewhere_else:ReferenceConnector"))

    plugin.register_connectors = register_connectors  # type: ignore[attr-defined]
    host = build_plugin_manager(extra=(plugin,))
    [failure] = host.failures
    assert "somewhere_else" in failure.error and "hub.testing.reference" in failure.error


def test_pmhub_plugins_still_lists_every_builtin_connector():
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    for plugin in ("github", "jira", "trello", "zoho_crm"):
        assert plugin in result.output


_COMMAND_PLUGIN = """
import click
from hub import hookimpl

@hookimpl
def register_commands(cli):
    @cli.command(help="Say hello from a plugin.")
    def hello():
        click.echo("hello from a plugin")

    @click.command()
    def sync():
        click.echo("the plugin's sync")

    cli.add_command(sync)
"""


def test_a_plugin_adds_a_command_and_a_clash_keeps_the_builtin(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "hellocmd", _COMMAND_PLUGIN)
    cli = build_cli()
    result = CliRunner().invoke(cli, ["hello"])
    assert result.exit_code == 0, result.output
    assert "hello from a plugin" in result.output
    assert "'hellocmd' adds a command 'sync'" in result.output
    assert cli.commands["sync"] is sync_commands.sync
    listing = CliRunner().invoke(cli, ["--help"])
    assert "hello" in listing.output and "Say hello from a plugin" in listing.output


def test_a_plugin_whose_register_commands_raises_leaves_the_cli_working(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "badcmd", (
        "from hub import hookimpl\n"
        "@hookimpl\n"
        "def register_commands(cli):\n"
        "    raise RuntimeError('plugin bug')\n"))
    result = CliRunner().invoke(build_cli(), ["--help"])
    assert result.exit_code == 0
    assert "'badcmd' failed in register_commands" in result.output and "plugin bug" in result.output
    assert "sync" in result.output


def test_a_builtin_command_does_not_load_plugin_commands(tmp_path, monkeypatch):
    _install_plugin(tmp_path, monkeypatch, "loudcmd", (
        "from hub import hookimpl\n"
        "@hookimpl\n"
        "def register_commands(cli):\n"
        "    print('plugin commands loaded')\n"))
    result = CliRunner().invoke(build_cli(), ["plugins"])
    assert "plugin commands loaded" not in result.output
    assert "plugin commands loaded" in CliRunner().invoke(build_cli(), ["--help"]).output


def test_a_plugin_contributes_transforms_and_mapping_dirs(tmp_path):
    from hub.mapping import mapping_search_path

    plugin = types.ModuleType("mapping_plugin")

    @hookimpl
    def register_transforms(register):
        register("shout", lambda value, params, direction: str(value).upper())

    @hookimpl
    def register_mapping_dirs(register):
        register(str(tmp_path))

    plugin.register_transforms = register_transforms  # type: ignore[attr-defined]
    plugin.register_mapping_dirs = register_mapping_dirs  # type: ignore[attr-defined]
    host = build_plugin_manager(load_entry_points=False, extra=(plugin,))
    assert host.transforms["shout"]("hi", {}, "in") == "HI"
    assert "label_map" in host.transforms  # the core's own, through the same hook
    assert mapping_search_path(host.mapping_dirs)[0] == tmp_path


def test_sandbox_services_come_from_every_plugin_and_a_broken_one_is_reported():
    plugin = types.ModuleType("broken_sandbox_plugin")

    @hookimpl
    def register_sandbox_services(register):
        raise RuntimeError("stand-in bug")

    plugin.register_sandbox_services = register_sandbox_services  # type: ignore[attr-defined]
    host = build_plugin_manager(extra=(plugin,))
    names = {service.name for service in host.sandbox_services()}
    assert {"github", "jira", "trello"} <= names
    assert any("register_sandbox_services" in f.error and "stand-in bug" in f.error
               for f in host.failures)


def test_every_hookspec_is_documented_in_the_readme_with_its_signature():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _hookspec_names():
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"`{name}({params})`" in readme, f"README.md does not document {name}({params})"


def test_every_hookspec_is_exercised_by_some_test():
    tests = {path: path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py")
             if path.name != Path(__file__).name}
    # This file counts up to its meta-tests, which name every hook without exercising it.
    here = Path(__file__).read_text(encoding="utf-8")
    tests[Path(__file__)] = here.split("def test_every_hookspec_is_documented_in_the_readme")[0]
    for name in _hookspec_names():
        used = re.compile(rf"\b{name}\b")
        assert any(used.search(text) for text in tests.values()), f"no test calls or implements {name}"


def test_a_lazy_connector_that_cannot_load_is_reported_and_the_others_still_listed():
    import types

    from hub import hookimpl
    from hub.plugins import LazyConnector

    broken = types.ModuleType("broken_lazy")

    @hookimpl
    def register_connectors(register):  # type: ignore[no-untyped-def]
        register(LazyConnector("asana", "pmhub_asana_missing.connector:AsanaConnector"))

    broken.register_connectors = register_connectors  # type: ignore[attr-defined]
    import hub.plugins as plugins

    real = plugins.build_plugin_manager
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plugins, "build_plugin_manager", lambda **kw: real(extra=(broken,), **kw))
        result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 1, result.output
    assert "plugin 'asana': cannot load its connector pmhub_asana_missing.connector:AsanaConnector" \
        in result.output
    assert "github" in result.output and "zoho_crm" in result.output, "the others are still listed"
