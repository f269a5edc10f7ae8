"""密级标识 and confidentiality legends: evidence of confidentiality measures, not substance.

Three strengths, because the words of secrecy appear just as often in text *about* secrecy (laws,
NDA templates, training slides, news) as in legends:

- **legend forms** are unambiguous anywhere: 机密★5年, 密级：秘密, 核心商密, 内部资料 注意保密,
  仅限内部使用, Internal use only, Do not distribute, Proprietary and Confidential;
- **legend words** (机密, 秘密, 商业秘密, 保密, CONFIDENTIAL, Proprietary, Trade Secret) count only
  where legends live: a header, footer or metadata field, a short stand-alone line, brackets at the
  start of a line, or all capitals — and not when the word names a topic (保密协议, 商业秘密保护);
- **e-mail disclaimers** ("this e-mail may contain confidential information") are boilerplate that
  says little: a small weight.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..data import Finding
from ..segmentation import Passage
from .base import Detector, joined, owner, register, snippet

LEGEND_WEIGHT = 0.6
WORD_WEIGHT = 0.45
DISCLAIMER_WEIGHT = 0.1
SHORT_BLOCK = 30  # characters (without spaces) under which a line can be a legend
LEGEND_PARTS = ("header", "footer", "metadata", "master", "headers")

_LEGENDS = [
    (re.compile(r"(绝密|机密|秘密)\s*[★☆*]\s*(?:\d+\s*(?:年|个月)|长期)?"), "classification mark"),
    (re.compile(r"密\s*级\s*[:]?\s*[\[【(]?\s*(绝密|机密|秘密|核心商密|普通商密|商密|内部|confidential|secret)"), "classification field 密级"),
    (re.compile(r"核心商密|普通商密|公司级?机密|公司级?秘密|企业秘密"), "corporate secrecy level"),
    (re.compile(r"内部(资料|文件|材料)\s*[,，、;\s]*\s*(注意|严格|务必)?\s*保密"), "legend 内部资料 注意保密"),
    (re.compile(r"仅限(公司|本公司|集团)?内部(使用|传阅|参考|人员|查阅|交流)|仅供内部(使用|参考|传阅)"), "legend 仅限内部"),
    (re.compile(r"(严禁|禁止|不得|请勿|切勿|勿|不要|未经许可不得)(对外|向外|私自)?(外传|外发|外流|外泄|外借|对外提供|传播|转发|复制|扩散)"),
     "legend prohibiting distribution"),
    (re.compile(r"保密期限\s*[:]?\s*\d+\s*(年|个月)"), "secrecy period 保密期限"),
    (re.compile(r"本(文件|文档|资料|邮件|报告|材料|表格?)(含有|包含|涉及|属于|为|系)(公司)?.{0,4}(商业秘密|机密|秘密信息|保密信息)"), "legend 本文件含商业秘密"),
    (re.compile(r"internal use only\b|internal only\b"), "legend internal use only"),
    (re.compile(r"(?:do not|don't|please do not) (?:distribute|forward|copy|share|circulate)\b"), "legend do not distribute"),
    (re.compile(r"not for (?:external |public |further )?(?:distribution|circulation|release)\b"), "legend not for distribution"),
    (re.compile(r"proprietary\s*(?:and|&)\s*confidential\b|confidential\s*(?:and|&)\s*proprietary\b"), "legend proprietary and confidential"),
    (re.compile(r"(?:strictly|highly|company|business|commercial(?:ly)?) confidential\b"), "legend strictly confidential"),
    (re.compile(r"(?:restricted|limited) (?:distribution|circulation)\b"), "legend restricted distribution"),
    (re.compile(r"classification\s*:\s*(?:confidential|restricted|secret|internal)\b"), "classification field"),
]

# Words that are legends only in legend context, and not when they name a topic.
_TOPIC_AFTER = (
    "保护|管理|培训|制度|法|案|侵权|意识|协议|条款|义务|责任|规定|工作|范围|措施|审查|期限为|教育|宣传|"
    "纠纷|诉讼|认定|鉴定|的|与|和|等|是|指|条例|要求|承诺|合同|政策|手册|守则|知识|检查|会议|主题|点"
)
_WORDS = re.compile(
    rf"(商业秘密|技术秘密|机密|秘密|保密)(?!{_TOPIC_AFTER})"
    r"|(confidential|proprietary|trade secret|top secret|restricted)\b(?!ity| (?:agreement|information means|policy|training|clause|obligations?))"
)
_BRACKETED = re.compile(r"^\s*[\[【(<《]\s*(机密|秘密|绝密|保密|内部|confidential|internal|proprietary|restricted)\s*[\]】)>》]")

_DISCLAIMERS = re.compile(
    r"this (?:e-?mail|message|communication|transmission)(?: and any (?:attachments?|files?)(?: transmitted with it)?)?"
    r".{0,40}?\b(?:is|are|may be|may contain|contains?)\b.{0,60}?\b(?:confidential|privileged)"
    r"|本邮件(?:及其附件)?.{0,12}(?:含有|包含|可能包含|属于).{0,16}(?:保密|机密|秘密)(?:信息|内容)?"
    r"|if you (?:are not|have received this).{0,40}(?:intended recipient|in error)",
    re.S,
)


@register
class MarkingDetector(Detector):
    """密级标识 and confidentiality legends (category ``marking``)."""

    name = "marking"
    categories = ("marking",)
    evidence_kind = "marking"

    def detect(self, passage: Passage) -> list[Finding]:
        return self.detect_batch([passage])[0]

    def detect_batch(self, passages: Sequence[Passage]) -> list[list[Finding]]:
        text, starts = joined(passages)
        # (passage, start, end, weight, detail) candidates in priority order: legends, disclaimers, words
        candidates: list[tuple[int, int, int, float, str]] = []
        for pattern, detail in _LEGENDS:
            candidates.extend(self._located(pattern, text, starts, passages, LEGEND_WEIGHT, detail))
        candidates.extend(self._located(_DISCLAIMERS, text, starts, passages, DISCLAIMER_WEIGHT, "e-mail confidentiality disclaimer"))
        for i, start, end, _, _ in self._located(_WORDS, text, starts, passages, WORD_WEIGHT, ""):
            passage = passages[i]
            local = passage.norm_text
            original = passage.block.text[slice(*passage.block_span(start, end))]
            shouting = original.isupper() and original.isascii() and len(original) >= 6
            bracketed = bool(_BRACKETED.match(local[max(0, start - 3) : end + 3]))
            legend_context = self._legend_context(passage)
            if legend_context or shouting or bracketed:
                where = "in a legend position" if legend_context else "in capitals" if shouting else "in brackets"
                candidates.append((i, start, end, WORD_WEIGHT, f"confidentiality word {where}"))
        found: list[list[Finding]] = [[] for _ in passages]
        taken: list[list[tuple[int, int]]] = [[] for _ in passages]
        for i, start, end, weight, detail in candidates:
            if any(s < end and start < e for s, e in taken[i]):
                continue
            taken[i].append((start, end))
            local = passages[i].norm_text
            found[i].append(self.finding(passages[i], start, end, "marking", weight, f"{detail}: {snippet(local[start:end])}"))
        return found

    @staticmethod
    def _located(pattern: re.Pattern[str], text: str, starts: list[int], passages: Sequence[Passage],
                 weight: float, detail: str) -> list[tuple[int, int, int, float, str]]:
        """Matches of ``pattern`` in the joined text as (passage, local start, local end, weight, detail)."""
        out = []
        for m in pattern.finditer(text):
            i = owner(starts, passages, m.start(), m.end())
            if i is not None:
                out.append((i, m.start() - starts[i], m.end() - starts[i], weight, detail))
        return out

    @staticmethod
    def _legend_context(passage: Passage) -> bool:
        if passage.location.part in LEGEND_PARTS:
            return True
        block_chars = len("".join(passage.block.text.split()))
        return block_chars <= SHORT_BLOCK and passage.block.kind != "table_row"
