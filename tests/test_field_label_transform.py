"""The ``field_label`` transform: a canonical field a tool has no place for, carried as a label."""

from __future__ import annotations

from hub.transforms import field_label

PARAMS = {"field": "customer", "prefix": "customer:", "space": "_"}


def test_out_writes_the_field_as_one_label_without_spaces() -> None:
    values = {"customer": "Acme Corp", "labels": ["billing", "customer:Old_Name"]}
    out = field_label(values, PARAMS, "out")
    assert out["labels"] == ["billing", "customer:Acme_Corp"], "the old customer label is replaced"
    assert field_label({"customer": None, "labels": ["customer:Gone"]}, PARAMS, "out")["labels"] == []


def test_in_reads_the_label_back_into_the_field_and_drops_it_from_labels() -> None:
    values = field_label({"customer": None, "labels": ["billing", "customer:Acme_Corp"]}, PARAMS, "in")
    assert (values["customer"], values["labels"]) == ("Acme Corp", ["billing"])
    untouched = field_label({"customer": None, "labels": ["billing"]}, PARAMS, "in")
    assert (untouched["customer"], untouched["labels"]) == (None, ["billing"])


def test_the_prefix_defaults_to_the_field_name() -> None:
    out = field_label({"customer": "Globex", "labels": []}, {"field": "customer"}, "out")
    assert out["labels"] == ["customer:Globex"]
