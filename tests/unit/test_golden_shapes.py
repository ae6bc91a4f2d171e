"""Property-based: any YAML document, any value in any case field, any nesting: a golden file
loads, or is one ``GoldenError`` naming the file and line, never a traceback."""

from __future__ import annotations

import os

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_supportbot_evals.run.goldens import CASE_FIELDS, GoldenError, load_file

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
fields = st.sampled_from(sorted(CASE_FIELDS | {"turns", "labels", "bogus"}))
cases = st.lists(
    st.one_of(
        values,
        st.fixed_dictionaries(
            {"id": st.just("case-1"), "query": st.just("where is my order?")},
            optional={name: values for name in sorted(CASE_FIELDS - {"id", "query"})},
        ),
        st.dictionaries(fields, values, max_size=5),
    ),
    max_size=3,
)
documents = st.one_of(values, st.fixed_dictionaries({"cases": cases}, optional={"labels": values}))


def _loads_or_names_the_file(path, text):
    path.write_text(text, encoding="utf-8")
    try:
        loaded = load_file(path)
    except GoldenError as error:
        assert str(error).startswith(str(path)), error
        return None
    assert all(case.id and case.query.strip() for case in loaded)
    return loaded


@SETTINGS
@given(document=documents)
@example(document={"cases": [{"id": "a", "query": "q", "review": [["category"]]}]})
@example(document={"cases": [{"id": "a", "query": "q", "tags": [{"x": 1}], "origin": {"a": []}}]})
def test_any_document_loads_or_is_one_error_naming_file_and_line(tmp_path, document):
    text = yaml.safe_dump(document, allow_unicode=True)
    _loads_or_names_the_file(tmp_path / "goldens.yaml", text)


@SETTINGS
@given(depth=st.integers(min_value=1, max_value=6000), flow=st.sampled_from("[{"))
@example(depth=5000, flow="[")
def test_any_nesting_is_one_error_never_a_recursion_traceback(tmp_path, depth, flow):
    close = "]" if flow == "[" else "}"
    inner = "x" if flow == "[" else "a: x"
    nested = flow * depth + inner + close * depth
    text = f"cases:\n  - id: a\n    query: q\n    tags: {nested}\n"
    _loads_or_names_the_file(tmp_path / "goldens.yaml", text)


def test_deep_block_nesting_is_one_error(tmp_path):
    text = "cases:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)) + "  " * 3000 + "x\n"
    _loads_or_names_the_file(tmp_path / "goldens.yaml", text)
