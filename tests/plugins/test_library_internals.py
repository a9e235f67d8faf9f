"""Smoke tests of the client-library internals pmhub relies on.

Each library below is used past its public API somewhere in a plugin, so pyproject.toml bounds its
version from above. When one of these tests fails after an upgrade, the message names the library,
its installed version and the internal that moved: adapt the plugin, then move the bound.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import requests

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
#: Distribution -> where pmhub reaches past its public API.
RELIED_ON = {
    "jira": "plugins/jira/connector.py (JIRA._session, JIRA._get_url)",
    "jira2markdown": "plugins/jira/markup.py (MarkupElements.expr, is_inline_element)",
    "mistletoe": "plugins/jira/markup.py (JIRARenderer render_* methods and _block_eol)",
    "zohocrmsdk8-0": "plugins/zoho_crm/transport.py, connector.py (module-level requests, Initializer.LOCAL)",
    "PyGithub": "plugins/github/connector.py (Requester.requestJson, createException, rate_limiting)",
    "tenacity": "hub/engine/retry.py (RetryCallState built for Retrier.pause)",
}


def require(condition: bool, distribution: str, internal: str) -> None:
    if not condition:
        pytest.fail(f"{distribution} {version(distribution)}: {internal} is gone or changed; "
                    f"{RELIED_ON[distribution]} relies on it. Adapt the plugin, then move the upper "
                    "bound in pyproject.toml.", pytrace=False)


def parameters(function: Any) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def test_every_library_used_past_its_public_api_has_an_upper_bound() -> None:
    declared = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    specs = {re.split(r"[<>=!~ ]", spec, maxsplit=1)[0].lower(): spec for spec in declared}
    for distribution in RELIED_ON:
        spec = specs.get(distribution.lower(), "")
        assert "<" in spec, f"pyproject.toml: {distribution} needs an upper bound (has {spec!r})"


def test_jira_session_and_url_builder() -> None:
    from jira import JIRA

    # As the connector builds it; with get_server_info=False the constructor sends nothing.
    client = JIRA(server="http://127.0.0.1:9", basic_auth=("a", "b"), max_retries=0, timeout=1,
                  get_server_info=False, options={"rest_api_version": "2"})
    session = getattr(client, "_session", None)
    require(isinstance(session, requests.Session) and isinstance(session.hooks.get("response"), list),
            "jira", "JIRA._session (a requests.Session with response hooks)")
    get_url = getattr(client, "_get_url", None)
    require(callable(get_url) and get_url("issue/1") == "http://127.0.0.1:9/rest/api/2/issue/1",
            "jira", "JIRA._get_url(path) -> <server>/rest/api/<version>/<path>")


def test_jira2markdown_grammar_built_once_converts_as_convert_does() -> None:
    import jira2markdown
    from jira2markdown.elements import MarkupElements

    elements = MarkupElements()
    require(all(hasattr(e, "is_inline_element") for e in elements), "jira2markdown",
            "MarkupElements items' is_inline_element")
    require(parameters(elements.expr)[:4] == ["inline_markup", "markup", "usernames", "elements"],
            "jira2markdown", "MarkupElements.expr(inline_markup, markup, usernames, elements)")
    from pmhub_plugins.jira.markup import _jira_grammar

    sample = ("h2. Steps\n\n* *bold* and _italic_ with {{code}}\n# numbered [a link|https://x.test]\n\n"
              "{code:python}\nprint(1)\n{code}\n\n||a||b||\n|1|2|\n\nbq. quoted -struck-")
    require(_jira_grammar().transform_string(sample) == jira2markdown.convert(sample), "jira2markdown",
            "the grammar convert() builds (pmhub builds the same one once)")


def test_mistletoe_jira_renderer_hooks() -> None:
    from mistletoe.contrib.jira_renderer import JIRARenderer

    expected = {"render_raw_text": ["token", "escape"], "render_line_break": ["token"],
                "render_block_code": ["token"], "_block_eol": ["token"]}
    for method, names in expected.items():
        found = getattr(JIRARenderer, method, None)
        require(callable(found) and parameters(found) == names, "mistletoe",
                f"JIRARenderer.{method}({', '.join(names)})")
    from pmhub_plugins.jira.markup import markdown_to_wiki

    wiki = markdown_to_wiki("snake_case\nnext line\n\n```\nraw\n```\n\n```python\nx = 1\n```")
    require(wiki == "snake_case\nnext line\n\n{noformat}\nraw\n{noformat}\n\n{code:python}\nx = 1\n{code}",
            "mistletoe", f"the overridden JIRARenderer methods being called (got {wiki!r})")


@pytest.mark.parametrize(("module", "verbs"), [
    ("zohocrmsdk.src.com.zoho.crm.api.util.api_http_connector", {"get", "post", "put", "patch", "delete"}),
    ("zohocrmsdk.src.com.zoho.api.authenticator.oauth_token", {"post"}),
])
def test_zoho_sdk_sends_through_its_module_level_requests(module: str, verbs: set[str]) -> None:
    import importlib
    import sys

    pytest.importorskip("zohocrmsdk")
    from pmhub_plugins.zoho_crm.transport import SdkRequests

    loaded = importlib.import_module(module)
    require(getattr(loaded, "requests", None) is requests
            or isinstance(getattr(loaded, "requests", None), SdkRequests),
            "zohocrmsdk8-0", f"{module}.requests (the module-level name transport.install replaces)")
    called = set(re.findall(r"\brequests\.(get|post|put|patch|delete|request)\(",
                            inspect.getsource(sys.modules[module])))
    require(called == verbs, "zohocrmsdk8-0",
            f"{module} calling requests.{'/'.join(sorted(verbs))} (calls {sorted(called)})")


def test_zoho_sdk_initializer_is_per_thread_state() -> None:
    import threading

    pytest.importorskip("zohocrmsdk")
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer

    require(isinstance(getattr(Initializer, "LOCAL", None), threading.local), "zohocrmsdk8-0",
            "Initializer.LOCAL (a threading.local whose .init the connector swaps per call)")
    require(hasattr(Initializer, "initializer") and callable(getattr(Initializer, "initialize", None)),
            "zohocrmsdk8-0", "Initializer.initializer / Initializer.initialize")


def test_pygithub_requester_and_token_auth() -> None:
    from github import Auth, Github

    requester = Github(auth=Auth.Token("t"), base_url="http://127.0.0.1:9", retry=None, lazy=True).requester
    require(parameters(requester.requestJson)[:5] == ["verb", "url", "parameters", "headers", "input"],
            "PyGithub", "Requester.requestJson(verb, url, parameters, headers, input)")
    require(parameters(requester.createException) == ["status", "headers", "output"], "PyGithub",
            "Requester.createException(status, headers, output)")
    require(requester.rate_limiting == (-1, -1) and requester.rate_limiting_resettime == 0, "PyGithub",
            "Requester.rate_limiting / rate_limiting_resettime before any reply")
    require(parameters(Auth.Token.authentication) == ["headers"], "PyGithub",
            "Auth.Token.authentication(headers), which the connector overrides to count requests")


def test_tenacity_retry_state_can_be_built_for_a_pause() -> None:
    from tenacity import RetryCallState, Retrying

    from hub.engine.retry import RetryBudget

    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = 3
    error = RuntimeError("x")
    state.set_exception((RuntimeError, error, None))
    wait = RetryBudget(initial=1.0, cap=30.0).backoff()(state)
    require(state.outcome is not None and state.outcome.exception() is error and 4.0 <= wait <= 5.0,
            "tenacity", "RetryCallState(retry_object, fn, args, kwargs) with attempt_number/set_exception")
