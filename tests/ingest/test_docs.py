from pathlib import Path

from pbxlens.ingest import docs


def test_formats_doc_is_up_to_date():
    committed = (Path(__file__).parents[2] / "docs" / "formats.md").read_text(encoding="utf-8")
    assert committed == docs.render(), "run: python -m pbxlens.ingest.docs > docs/formats.md"
