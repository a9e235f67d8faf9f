"""`pmhub report` with nothing to report on, or asked for what it cannot do: one clear line, exit 2."""

from __future__ import annotations


def test_a_fresh_store_is_a_clear_error(empty_home):
    result = empty_home.report("--customer", "Acme Corp")
    assert result.exit_code == 2
    assert "no linked issues" in result.output and "pmhub sync" in result.output
    assert not (empty_home.home / "state.db").exists()  # a report never creates the state store


def test_an_unknown_customer_is_a_clear_error_naming_the_known_ones(report_home):
    result = report_home.report("--customer", "Initech")
    assert result.exit_code == 2
    assert "'Initech'" in result.output and "Acme Corp, Globex" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_language_is_a_clear_error(report_home):
    result = report_home.report("--customer", "Acme Corp", "--lang", "fr")
    assert result.exit_code == 2
    assert "unknown report language 'fr'" in result.output and "en, zh-CN" in result.output


def test_a_bad_date_is_a_usage_error(report_home):
    result = report_home.report("--customer", "Acme Corp", "--since", "last week", period=False)
    assert result.exit_code == 2 and "not a date" in result.output
