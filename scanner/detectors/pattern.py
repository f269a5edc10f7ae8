"""Specific substance: set-points, compositions, prices with floor wording, bids, salaries, yields, code.

Each detector looks for what makes information *specific* — exact numbers tied to units and to the
words that give them commercial meaning — rather than for topics. Weights grow with the number of
distinct specific values: one temperature in a sentence is textbook knowledge, four pressure stages
with a hold time and a tolerance are a process recipe. Public documents have specific numbers too
(patents, standards, datasheets): the ``public_context`` detector and the classifier weigh against
them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..data import Finding
from ..segmentation import Passage
from .base import Detector, register, snippet

_NUM = r"(?:\d+(?:\.\d+)?)"
_RANGE = rf"{_NUM}(?:\s*(?:[-~～至到]|to)\s*{_NUM})?"
_SEQUENCE = rf"{_NUM}(?:\s*/\s*{_NUM}){{2,}}"  # 88/76/64/40
_PM = r"(?:±|\+/-|\+-)"

# Units of process set-points, by strength: the physical quantities a recipe sets, then durations.
_STRONG_UNITS = (
    r"℃|°c|°f|度c|mpa|kpa|gpa|bar|psi|torr|mtorr|pa\b|rpm|r/min|转/分钟?|转每分|m/min|mm/s|m/s|cm/s|"
    r"l/min|ml/min|ml/h|l/h|sccm|slm|m³/h|m3/h|kg/h|t/h|g/min|kn\b|n·m|nm\b(?=.{0,3}扭)|kv\b|ma\b|a/dm2|a/dm²|"
    r"kw\b|w/cm2|%rh|g/l|mol/l|mg/l|ppm|μm|um\b|mesh|目|hz\b|khz|kgf|n/mm2|mpa·s|cp\b|cps\b|kgf/cm2"
)
_TIME_UNITS = r"min\b|mins\b|分钟|h\b|hr\b|hrs\b|hours?\b|小时|s\b|sec\b|秒|ms\b|天\b"
_PARAM = re.compile(
    rf"(?P<value>{_SEQUENCE}|{_RANGE})\s*(?:{_PM}\s*{_NUM}\s*)?(?P<unit>{_STRONG_UNITS}|{_TIME_UNITS})",
    re.I,
)
_TOLERANCE = re.compile(rf"{_PM}\s*{_NUM}|公差|tolerance|上下限|偏差不超过|不超过\s*{_NUM}")
_STAGES = re.compile(r"(?:第[1-9一二三四五六七八九]段|[1-9一二三四五六七八九]段|[1-9一二三四五]级|stage\s*[1-9]|step\s*[1-9]|zone\s*[1-9]|[1-9]区)")
_SETPOINT_WORDS = re.compile(
    r"设定|设为|控制在|调整为|调至|调到|改为|升温至|降温至|保温|保压|恒温|升温|降温|预热|回火|淬火|烧结|固化|干燥|"
    r"注射|注塑|挤出|压铸|焊接|反应|搅拌|滴加|回流|蒸馏|发酵|灭菌|冷却|退火|温度|压力|转速|速度|流量|真空|"
    r"set ?point|set to|hold|ramp|soak|cure|anneal|sinter|bake|dwell|injection|pressure|temperature|speed|feed rate"
)

_COMPONENT = re.compile(
    rf"(?P<value>{_RANGE})\s*(?P<unit>wt\s*\.?\s*%|w/w\s*%|%\s*\(?w/w\)?|%\s*wt|质量份|重量份|份|phr|mol\s*%|vol\s*%|%\s*质量|g/kg|mg/kg|ppm|%)",
    re.I,
)
_FORMULA_WORDS = re.compile(
    r"配方|配比|组分|组成|原料|投料|添加量|加入量|质量份|重量份|母液|助剂|formulation|recipe|composition|"
    r"ingredients?|parts by weight|blend|masterbatch|additive package|batch sheet"
)

_AMOUNT = re.compile(
    r"(?:(?:¥|￥|\$|us\$|usd|rmb|cny|eur|€|£|hk\$|jpy)\s*(?P<v1>\d+(?:\.\d+)?)\s*(?:k|m|mn|million|bn|万|亿)?"
    r"|(?P<v2>\d+(?:\.\d+)?)\s*(?:k\b|m\b|mn\b|million|bn\b|千)?\s*(?:元|块|万元|万|亿元|亿|rmb|cny|usd|eur|dollars?|美元|欧元|美金|港币|日元)"
    r"(?:\s*/\s*(?:吨|t\b|kg|公斤|千克|件|个|套|台|pcs|piece|unit|ton|m²|m2|平方米|米|m\b|l\b|升|瓶|箱|年|月|小时|h\b))?)",
    re.I,
)
_FLOOR_WORDS = re.compile(
    r"底价|最低价|最低报价|最低(?:可以|能|只能|放到|给到|到|不能低于)|不低于|不能低于|别低于|底线|红线|"
    r"最多(?:能)?(?:让|降)|可以让到|放到|给到|折扣|折让|让利|让步|特价|净价|结算价|出厂价|进价|采购价|"
    r"floor|walk-?away|lowest (?:price|we can)|minimum (?:price|acceptable)|rock[- ]bottom|can go down to|"
    r"bottom line|not go below|no lower than|discount|net price|special price"
)
_MARGIN_WORDS = re.compile(
    r"毛利|毛利率|利润|净利|成本|单位成本|加价|溢价|margin|markup|cost (?:price|basis|breakdown|per)|unit cost|"
    r"landed cost|cogs|profit"
)
_COST_BREAKDOWN = re.compile(r"材料费|人工费|人工成本|制造费用|加工费|运费|物流费|管理费|模具费|包装费|labou?r cost|material cost|overhead|freight")

_BID_WORDS = re.compile(
    r"投标(?:报价|总价|单价|价格|策略|方案)|标底|报价明细|分项报价|控制价|拦标价|最高限价|让利|围标|陪标|串标|"
    r"评标(?:基准价|价)|开标前|报价策略|bid (?:price|strategy|margin|breakdown)|tender (?:price|strategy)|"
    r"our (?:bid|offer) (?:is|will be|at)|pricing strategy|price to win|competitor(?:'s)? (?:bid|price)"
)
_SALARY_WORDS = re.compile(
    r"月薪|年薪|薪资|薪酬|工资|基本工资|底薪|绩效工资|奖金|年终奖|提成|补贴|期权|股票|rsu|调薪|涨薪|降薪|"
    r"salary|salaries|base pay|bonus|compensation|pay rise|raise to|equity grant|stock options?|severance|retention"
)
_RATING = re.compile(r"绩效(?:评级|等级|结果|考核)\s*[:：为是]?\s*[sabcd][+-]?\b|rating\s*[:：]\s*(?:exceeds|meets|below|[1-5])")
_YIELD_WORDS = re.compile(
    r"良率|收率|得率|合格率|不良率|缺陷率|直通率|报废率|一次通过率|故障率|失效率|cpk|ppk|mtbf|"
    r"yield|defect rate|pass rate|failure rate|scrap rate|first[- ]pass|dppm|ppm defective"
)
_DATA_WORDS = re.compile(
    r"测试(?:结果|数据)|试验(?:结果|数据)|检测(?:结果|数据)|实验(?:结果|数据|记录)|样品|批次|批号|对照组|实验组|"
    r"test results?|measured|lot\s*(?:no|#|number)|batch\s*(?:no|#)|sample\s*[a-z]?\d|trial|assay|"
    r"a/b test|p-?value|auc|precision|recall|conversion rate|retention rate"
)
_PERCENT = re.compile(rf"{_NUM}\s*%")
_LOT = re.compile(r"(?:批次|批号|lot|batch)\s*(?:no\.?|#|号)?\s*[:：]?\s*[a-z0-9][a-z0-9-]{3,}", re.I)


def _distinct(values: Iterable[str]) -> int:
    return len({re.sub(r"\s+", "", v) for v in values})


@register
class ProcessParameterDetector(Detector):
    """Process set-points: temperatures, pressures, speeds, flows and times with units; stages; tolerances."""

    name = "process_parameters"
    categories = ("technical.process",)

    def detect(self, passage: Passage) -> list[Finding]:
        text = passage.norm_text
        matches = list(_PARAM.finditer(text))
        if not matches:
            return []
        strong = [m for m in matches if re.fullmatch(_STRONG_UNITS, m.group("unit"), re.I)]
        timed = [m for m in matches if m not in strong]
        sequences = [m for m in matches if "/" in m.group("value")]
        stages = len(set(_STAGES.findall(text)))
        tolerance = bool(_TOLERANCE.search(text))
        setpoint = bool(_SETPOINT_WORDS.search(text))
        n_strong = _distinct(m.group(0) for m in strong)
        n_time = _distinct(m.group(0) for m in timed)
        if n_strong + n_time < 2 and not (n_strong and (sequences or tolerance)):
            return []
        if not n_strong and not setpoint:
            return []  # durations alone: schedules, not recipes
        weight = 0.12 * n_strong + 0.05 * n_time + 0.15 * bool(sequences) + 0.05 * min(stages, 3) + 0.1 * tolerance
        weight = min(0.8, weight * (1.0 if setpoint else 0.6))
        if weight < 0.2:
            return []
        first, last = matches[0].start(), matches[-1].end()
        detail = f"{n_strong + n_time} set-points ({n_strong} temperature/pressure/speed/flow)"
        if sequences:
            detail += ", a multi-stage sequence"
        if tolerance:
            detail += ", tolerances"
        return [self.finding(passage, first, last, "technical.process", weight, f"{detail}: {snippet(text[first:last])}")]


@register
class CompositionDetector(Detector):
    """Compositions: components with wt%, 质量份, phr, ppm; 配方/配比 wording."""

    name = "composition"
    categories = ("technical.formula",)

    def detect(self, passage: Passage) -> list[Finding]:
        text = passage.norm_text
        matches = list(_COMPONENT.finditer(text))
        if len(matches) < 2:
            return []
        explicit = [m for m in matches if m.group("unit").strip() != "%"]
        keyword = bool(_FORMULA_WORDS.search(text)) or passage.header is not None and bool(_FORMULA_WORDS.search(passage.header.lower()))
        if not explicit and not keyword:
            return []  # plain percentages (growth, shares) are not compositions
        n = _distinct(m.group(0) for m in (explicit or matches))
        if n < 2 and not keyword:
            return []
        weight = min(0.8, 0.12 * n + (0.2 if keyword else 0.0) + (0.1 if explicit else 0.0))
        if weight < 0.25:
            return []
        first, last = matches[0].start(), matches[-1].end()
        return [self.finding(passage, first, last, "technical.formula", weight,
                             f"composition with {n} quantified components: {snippet(text[first:last])}")]


@register
class PriceDetector(Detector):
    """Prices and costs with floor, discount or margin wording; cost breakdowns."""

    name = "pricing"
    categories = ("business.pricing",)

    def detect(self, passage: Passage) -> list[Finding]:
        text = passage.norm_text
        amounts = list(_AMOUNT.finditer(text))
        if not amounts:
            return []
        found: list[Finding] = []
        floor = _nearest(_FLOOR_WORDS, text, amounts, 40)
        if floor is not None:
            word, amount = floor
            start, end = min(word.start(), amount.start()), max(word.end(), amount.end())
            found.append(self.finding(passage, start, end, "business.pricing", 0.5,
                                      f"price with floor/discount wording ({word.group(0)}): {snippet(text[start:end])}"))
            return found
        margin = _nearest(_MARGIN_WORDS, text, amounts, 40) or _nearest(_MARGIN_WORDS, text, list(_PERCENT.finditer(text)), 20)
        if margin is not None:
            word, amount = margin
            start, end = min(word.start(), amount.start()), max(word.end(), amount.end())
            found.append(self.finding(passage, start, end, "business.pricing", 0.4,
                                      f"cost or margin figure ({word.group(0)}): {snippet(text[start:end])}"))
            return found
        if len(_COST_BREAKDOWN.findall(text)) >= 2 and len(amounts) >= 2:
            start, end = amounts[0].start(), amounts[-1].end()
            found.append(self.finding(passage, start, end, "business.pricing", 0.4,
                                      f"cost breakdown with {len(amounts)} amounts: {snippet(text[start:end])}"))
        return found


@register
class BidDetector(Detector):
    """Bid prices and their breakdown, 标底, bidding strategy."""

    name = "bid"
    categories = ("business.bid",)

    def detect(self, passage: Passage) -> list[Finding]:
        text = passage.norm_text
        words = list(_BID_WORDS.finditer(text))
        if not words:
            return []
        amounts = list(_AMOUNT.finditer(text)) + list(_PERCENT.finditer(text))
        near = _nearest(_BID_WORDS, text, amounts, 60)
        if near is not None:
            word, amount = near
            start, end = min(word.start(), amount.start()), max(word.end(), amount.end())
            return [self.finding(passage, start, end, "business.bid", 0.5, f"bid figure ({word.group(0)}): {snippet(text[start:end])}")]
        if any(w.group(0) in ("标底", "围标", "陪标", "串标", "拦标价") for w in words):
            w = words[0]
            return [self.finding(passage, w.start(), w.end(), "business.bid", 0.3, f"bid term {w.group(0)}")]
        return []


@register
class SalaryDetector(Detector):
    """Salary, bonus and equity figures; performance ratings."""

    name = "salary"
    categories = ("business.hr",)

    def detect(self, passage: Passage) -> list[Finding]:
        text = passage.norm_text
        header = (passage.header or "").lower()
        amounts = list(_AMOUNT.finditer(text)) or ([] if not _SALARY_WORDS.search(header) else list(re.finditer(r"\d{4,}(?:\.\d+)?", text)))
        found: list[Finding] = []
        if amounts:
            near = _nearest(_SALARY_WORDS, text, amounts, 30)
            if near is not None:
                word, amount = near
                start, end = min(word.start(), amount.start()), max(word.end(), amount.end())
                if _is_range(text, amount):  # "8000-12000元/月", "15k以上": what job ads publish
                    found.append(self.finding(passage, start, end, "business.hr", 0.2,
                                              f"pay range ({word.group(0)}), as job ads publish: {snippet(text[start:end])}"))
                else:
                    found.append(self.finding(passage, start, end, "business.hr", 0.55,
                                              f"exact pay figure ({word.group(0)}): {snippet(text[start:end])}"))
            elif _SALARY_WORDS.search(header):
                a = amounts[0]
                found.append(self.finding(passage, a.start(), amounts[-1].end(), "business.hr", 0.45,
                                          f"pay figures under the column header {snippet(passage.header or '')}"))
        for m in _RATING.finditer(text):
            found.append(self.finding(passage, m.start(), m.end(), "business.hr", 0.3, f"performance rating: {snippet(m.group(0))}"))
            break
        return found


@register
class TestDataDetector(Detector):
    """R&D and production data: yields, defect rates, lot results, test measurements."""

    name = "test_data"
    categories = ("technical.data",)

    def detect(self, passage: Passage) -> list[Finding]:
        text = passage.norm_text
        context = text + " " + (passage.header or "").lower()
        yields = list(_YIELD_WORDS.finditer(context))
        data = list(_DATA_WORDS.finditer(context))
        numbers = re.findall(rf"{_NUM}\s*%|{_NUM}", text)
        if not (yields or data) or len(numbers) < 2:
            return []
        lots = len(_LOT.findall(text))
        percents = len(_PERCENT.findall(text))
        weight = 0.15 * bool(yields) + 0.1 * bool(data) + 0.05 * min(percents, 4) + 0.1 * min(lots, 2) + 0.02 * min(len(numbers), 10)
        weight = min(0.7, weight)
        if weight < 0.25:
            return []
        cue = (yields or data)[0].group(0)
        return [self.whole(passage, "technical.data", weight, f"measured data ({cue}, {len(numbers)} figures, {lots} lot ids)")]


_CODE_LINE = re.compile(
    r"[;{}]\s*$|^\s*(?:def|class|return|import|from|public|private|protected|static|void|int|var|let|const|function|"
    r"if|else|elif|for|while|switch|case|try|catch|except|select|insert|update|delete|create|#include|package|func|fn|"
    r"struct|impl|using|namespace|@\w+)\b|==|!=|<=|>=|&&|\|\||->|=>|::|\+=|\w+\(.*\)\s*[:;{]?\s*$|^\s*#\s*\w+|^\s*//",
    re.I,
)


@register
class SourceCodeDetector(Detector):
    """Source code in any language: the share of lines that look like code (language-agnostic)."""

    name = "source_code"
    categories = ("technical.source_code",)

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self._cache: tuple[int, float, int] | None = None

    def detect(self, passage: Passage) -> list[Finding]:
        share, lines = self._block_code_share(passage)
        if lines < 3 or share < 0.5:
            return []
        weight = min(0.7, 0.3 + 0.4 * (share - 0.5) * 2 + (0.1 if passage.block.kind == "code" else 0.0))
        return [self.whole(passage, "technical.source_code", weight, f"source code ({share:.0%} of {lines} lines look like code)")]

    def _block_code_share(self, passage: Passage) -> tuple[float, int]:
        # Code is judged per block (passages cut code at line ends), once per block.
        key = id(passage.block)
        if self._cache is None or self._cache[0] != key:
            lines = [line for line in passage.block.text.splitlines() if line.strip()]
            hits = sum(bool(_CODE_LINE.search(line)) for line in lines)
            self._cache = (key, hits / len(lines) if lines else 0.0, len(lines))
        return self._cache[1], self._cache[2]


_RANGE_AROUND = re.compile(rf"^\s*(?:[-~～—–至到]|to\b)\s*[¥$€£]?\s*{_NUM}|^\s*(?:k|元)?\s*(?:以上|起|左右|上下|面议|\+)")
_RANGE_BEFORE = re.compile(rf"{_NUM}\s*[kKwW万千]?\s*(?:[-~～—–至到]|to)\s*[¥$€£]?\s*$")


def _is_range(text: str, amount: re.Match[str]) -> bool:
    """Whether ``amount`` is one end of a range or an open bound ("8000-12000", "from 15k", "1万以上")."""
    return bool(_RANGE_AROUND.search(text[amount.end() : amount.end() + 12])
                or _RANGE_BEFORE.search(text[max(0, amount.start() - 12) : amount.start()]))


def _nearest(words: re.Pattern[str], text: str, anchors: list[re.Match[str]], window: int) -> tuple[re.Match[str], re.Match[str]] | None:
    """The first word match within ``window`` characters of an anchor match, with that anchor."""
    if not anchors:
        return None
    for word in words.finditer(text):
        for anchor in anchors:
            gap = max(anchor.start() - word.end(), word.start() - anchor.end())
            if gap <= window:
                return word, anchor
    return None
