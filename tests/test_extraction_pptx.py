"""PPTX extraction: slide order, shapes and groups, tables, notes, comments, hidden slides, masters."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import STATUSES
from scanner.extraction import extract_path
from tests._expected import fixture_files, found, text_expectations

FEATURES = Path(__file__).resolve().parent / "data" / "pptx" / "features.pptx"


@pytest.fixture(scope="module")
def blocks():
    result = extract_path(FEATURES)
    assert result.status == "ok" and result.format == "pptx", result.error
    return result.blocks


def test_slides_in_presentation_order_with_shapes_groups_and_tables(blocks) -> None:
    slide1 = [(b.kind, b.text) for b in blocks if b.location.part == "slide:1"]
    assert slide1 == [
        ("heading", "新工艺路线"),
        ("text", "热处理温度860度"),
        ("text", "保温2.5小时"),
        ("text", "组内文字一"),
        ("text", "组内文字二"),
        ("table_row", "型号\t良率"),
        ("table_row", "X-9\t97.5%"),
        ("text", "产线照片"),
    ]
    row = [b for b in blocks if b.text == "X-9\t97.5%"][0]
    assert [c.ref for c in row.cells] == ["R2C1", "R2C2"] and row.header == "型号\t良率"
    assert all(b.location.slide == 1 for b in blocks if b.location.part == "slide:1")


@pytest.mark.parametrize(
    ("text", "part", "slide", "flags"),
    [
        ("演讲备注：不要提成本", "notes:1", 1, ()),
        ("批注：数据待核实", "comment", 1, ("comment",)),
        ("隐藏页：客户名单", "slide:2", 2, ("hidden",)),
        ("产线照片", "slide:1", 1, ("alt_text",)),
        ("公司机密 严禁外传", "master", None, ()),
        ("母版文本框：内部", "master", None, ()),
        ("密级: 秘密", "metadata", None, ()),
    ],
)
def test_feature_blocks(blocks, text, part, slide, flags) -> None:
    block = [b for b in blocks if b.text == text][0]
    assert (block.location.part, block.location.slide, block.flags) == (part, slide, flags)


def test_notes_leave_out_slide_image_and_number_and_masters_their_prompts(blocks) -> None:
    texts = [b.text for b in blocks]
    assert "单击此处编辑母版标题样式" not in texts
    assert not [b for b in blocks if b.location.part == "notes:1" and b.text == "1"]
    assert texts.count("公司机密 严禁外传") == 1  # on the master and its layout: emitted once


@pytest.mark.fixtures
def test_real_presentations(shared_data: Path) -> None:
    files = fixture_files(shared_data, (".pptx", ".pptm", ".potx", ".ppsx"))
    assert files
    hits = total = 0
    for path in files:
        result = extract_path(path)
        assert result.status in STATUSES, path
        if result.status == "ok" and shared_data / "format_fixtures" in path.parents:
            h, n = found(text_expectations(path, shared_data / "format_fixtures"), result)
            hits, total = hits + h, total + n
    print(f"\nPPTX: {hits}/{total} expected strings found")
    assert total and hits / total >= 0.75


@pytest.mark.fixtures
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tika/testPPT_masterFooter.pptx", "Master footer is here"),
        ("tika/testPPT_comment.pptx", "I'm afraid I'm going to have to ask you to add some content to this tps deck"),
        ("tika/testPPT_groups.pptx", "Text box5 tika link"),
        ("unstructured/fake-power-point-table.pptx", "Tangerine\tPink\tAqua"),
        ("poi/with_japanese.pptx", "ゾルゲと尾崎、淡々と最期"),
    ],
)
def test_real_files(shared_data: Path, name: str, expected: str) -> None:
    result = extract_path(shared_data / "format_fixtures" / name)
    assert result.status == "ok"
    assert any(expected in b.text for b in result.blocks)
