"""The README's field reference of the HR events is the one the models generate, and every field has a
description to put in it.

After changing an HR event model, rewrite the README's reference with
`PYTHONPATH=functions .venv/bin/python -m tests.unit.test_hr_event_reference`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cognito_workers.lifecycle.events import EVENT_TYPES, hr_event_reference

README = Path(__file__).parents[2] / "README.md"
START, END = "<!-- hr-event-fields -->\n", "<!-- /hr-event-fields -->"


def with_reference(readme: str, reference: str) -> str:
    """The README with `reference` between its markers."""
    before, rest = readme.split(START)
    _, after = rest.split(END)
    return f"{before}{START}{reference}{END}{after}"


def test_the_readme_holds_the_reference_the_models_generate() -> None:
    readme = README.read_text()

    assert readme == with_reference(readme, hr_event_reference()), (
        "the README's HR event reference is out of date: run "
        "PYTHONPATH=functions .venv/bin/python -m tests.unit.test_hr_event_reference"
    )


@pytest.mark.parametrize("detail_type", sorted(EVENT_TYPES))
def test_every_hr_event_and_field_is_described(detail_type: str) -> None:
    schema = EVENT_TYPES[detail_type].model_json_schema(by_alias=True)

    assert schema.get("description")
    assert [name for name, field in schema["properties"].items() if not field.get("description")] == []


if __name__ == "__main__":
    README.write_text(with_reference(README.read_text(), hr_event_reference()))
