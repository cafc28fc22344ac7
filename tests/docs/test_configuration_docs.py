"""docs/configuration.md lists every setting with its sources, as the code declares them."""

from __future__ import annotations

from settings_table_support import PAGE, all_fields, page_table, settings_table


def test_the_settings_table_is_generated_from_the_code() -> None:
    assert page_table(PAGE.read_text()) == settings_table(), (
        "docs/configuration.md is out of date: run `python -m tests.docs.settings_table_support`"
    )


def test_the_page_lists_every_field() -> None:
    rows = page_table(PAGE.read_text()).splitlines()[2:]
    assert [row.split(" | ")[0].removeprefix("| ").strip("`") for row in rows] == list(all_fields())
