"""docs/not-built.md lists exactly the routes whose contexts are not built yet."""

from __future__ import annotations

from gateway.tools.not_built import DOC, render


def test_not_built_document_is_current():
    assert DOC.read_text() == render(), "run: python -m gateway.tools.not_built"


def test_document_names_every_unbuilt_context_route():
    text = DOC.read_text()
    assert "`GET /apps`" not in text  # the apps context is built
    assert "`GET /pools`" not in text  # the provisioner's routes are built
    assert "## provisioner (0 routes)" in text
    assert "`POST /teams`" not in text  # auth is built
    assert "`POST /services/{service}/instances`" not in text  # catalog is built
