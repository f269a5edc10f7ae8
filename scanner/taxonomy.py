"""The categories of ``../shared/TAXONOMY.md``, from the Supreme People's Court 2020 provisions (art. 1).

``technical.*`` is 技术信息, ``business.*`` is 经营信息; ``personal_info`` and ``marking`` are secondary
signals: a marking is evidence of confidentiality measures, not substance by itself.
"""

from __future__ import annotations

TECHNICAL = (
    "technical.formula",
    "technical.process",
    "technical.design",
    "technical.source_code",
    "technical.data",
)
BUSINESS = (
    "business.customer",
    "business.pricing",
    "business.bid",
    "business.financial",
    "business.strategy",
    "business.hr",
    "business.supplier",
    "business.contract",
)
SUBSTANTIVE = TECHNICAL + BUSINESS
SECONDARY = ("personal_info", "marking")
CATEGORIES = SUBSTANTIVE + SECONDARY
NONE = "none"

CHINESE_NAMES = {
    "technical.formula": "配方、组分、原料配比",
    "technical.process": "工艺、方法及其步骤、工艺参数",
    "technical.design": "结构、设计、图纸、样品、样式",
    "technical.source_code": "计算机程序、算法、源代码及文档",
    "technical.data": "研发、实验、测试数据",
    "business.customer": "客户信息",
    "business.pricing": "价格、成本、毛利",
    "business.bid": "招投标材料",
    "business.financial": "未公开财务信息",
    "business.strategy": "战略、计划、并购",
    "business.hr": "人事、薪酬",
    "business.supplier": "供应商信息",
    "business.contract": "未公开合同条款",
    "personal_info": "个人信息",
    "marking": "密级/保密标识",
}


def is_substantive(category: str) -> bool:
    """True for the 13 categories that are trade-secret substance (not markings or personal data)."""
    return category in SUBSTANTIVE
