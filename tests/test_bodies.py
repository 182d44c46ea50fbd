"""Bodies: one row per publishing body, names merged only when region and core name agree."""

from __future__ import annotations

import pytest

from nianbao.bodies import body_key, body_row, core_name


@pytest.mark.parametrize("printed, region, core", [
    ("秦州区天水郡街道", ("甘肃省", "天水市", "秦州区"), "天水郡街道"),
    ("甘肃省天水市秦州区天水郡街道办事处", ("甘肃省", "天水市", "秦州区"), "天水郡街道"),
    ("天水郡街道办事处", ("甘肃省", "天水市", "秦州区"), "天水郡街道"),
    ("天水郡 街道", ("甘肃省", "天水市", "秦州区"), "天水郡街道"),
    # a region that is not its own stays in the name; so does anything else
    ("麦积区天水郡街道", ("甘肃省", "天水市", "秦州区"), "麦积区天水郡街道"),
    ("秦州区人民政府办公室", ("甘肃省", "天水市", "秦州区"), "人民政府办公室"),
    ("秦州区", ("甘肃省", "天水市", "秦州区"), "秦州区"),
])
def test_core_names_take_off_only_the_bodys_own_region_and_the_office_of_a_street(printed, region, core):
    assert core_name(printed, region) == core


def test_two_bodies_are_one_only_with_the_same_region_and_core_name():
    here = ("甘肃省", "天水市", "秦州区", None)
    assert body_key("秦州区天水郡街道", *here) == body_key("天水郡街道办事处", *here)
    assert body_key("天水郡街道", *here) != body_key("天水郡街道", "甘肃省", "天水市", "麦积区", None)
    assert body_key("天水郡街道", *here) != body_key("天水郡镇", *here)
    # a region code, where the registry gives one, is the region
    assert body_key("天水郡街道", "甘肃省", None, None, "620502") == "620502/天水郡街道"
    # without a region a body is its whole printed name: nothing is merged
    assert body_key("秦州区天水郡街道") != body_key("天水郡街道")
    assert body_key(None) is None and body_key("  ") is None


def test_a_bodys_row_names_its_years_and_the_years_it_missed():
    reports = [{"year": y, "publisher": p, "province": "甲省", "city": "乙市", "county": "丙县",
                "region_code": None, "新收申请": n, "办理总计": n, "行政复议": 0, "行政诉讼": 1}
               for y, p, n in [(2019, "丙县丁镇人民政府", 3), (2022, "丁镇人民政府", 7)]]
    row = body_row("甲省/乙市/丙县/丁镇人民政府", reports)
    assert row["名称"] == "丁镇人民政府" and row["印过的名称"] == "丙县丁镇人民政府、丁镇人民政府"
    assert (row["有年报的年度"], row["缺少的年度"], row["年报数"]) == ("2019、2022", "2020、2021", 2)
    assert (row["最新年度"], row["新收申请"]) == (2022, 7)
    assert body_row("x", []) is None
