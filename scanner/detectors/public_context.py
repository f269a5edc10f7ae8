"""Negative evidence (非公知性): signs that content is already public, or is about secrecy, or is a blank.

A passage with set-points inside a published patent, a price inside a public tender notice, the
word 商业秘密 inside a law: the substance detectors fire on them, this detector says why they are
not secrets. Its findings carry negative weights; the scorer applies them to the passage they sit in
and, more weakly, to the whole document (a patent's 公开号 on page 1 makes page 7's 实施例 public too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..data import Finding
from ..segmentation import Passage
from .base import Detector, joined, owner, register, snippet

PUBLIC = "public"  # pseudo-category of negative evidence; never reported as a finding category

# (cue name, weight, pattern). Weights are negative: how strongly the cue says "this is public".
# Patterns start with literals, not with \b or look-behinds: the regex engine then skips ahead to
# candidate characters instead of trying every position (5-40x faster on Chinese text).
CUES: list[tuple[str, float, re.Pattern[str]]] = [
    ("patent publication number", -0.6, re.compile(
        r"(?:公开|公告|授权公告|申请公布|专利)号\s*[:]?\s*(?:cn|zl)|cn\s?\d{9}\s?[abuy]\b|zl\s?\d{4}\s?\d\s?\d{7}\.\d|"
        r"us\s?\d{1,2},?\d{3},?\d{3}\s?b[12]\b|us\s?20\d{2}/?\d{7}\s?a[19]\b|wo\s?20\d{2}/\d{6}\b|ep\s?\d{7}\s?[ab]\d\b")),
    ("patent structure", -0.4, re.compile(
        r"本发明|本实用新型|本外观设计|权利要求书|说明书摘要|根据权利要求\s*\d|如权利要求\s*\d|"
        r"what is claimed is|background of the invention|summary of the invention|the present invention|"
        r"according to claim \d|in (?:some|one|another) embodiments?|field of the invention")),
    ("patent sections", -0.2, re.compile(r"(?:技术领域|背景技术|发明内容|具体实施方式|附图说明)\s*$|实施例\s*\d+\s*[:]|example \d+\s*[:.]", re.M)),
    ("standard text", -0.45, re.compile(
        r"本(?:标准|文件|部分)(?:规定了|适用于|代替|按照)|规范性引用文件|术语和定义|this (?:international )?standard (?:specifies|applies)|"
        r"normative references|terms and definitions")),
    ("standard number", -0.15, re.compile(
        r"gb/t\s?\d+(?:\.\d+)?\s*[-—–]\s*\d{4}|gb\s?\d{4,5}(?:\.\d+)?\s*[-—–]\s*\d{4}|(?:jb|hg|qb|sh|yy|sj|jc|yb|fz|gb/z)/t\s?\d+|"
        r"iso\s?\d{3,5}(?:-\d+)?(?::\s?\d{4})?|astm\s?[a-z]\d+|iec\s?\d{4,5}")),
    ("public tender notice", -0.5, re.compile(
        r"招标公告|中标(?:结果)?公[告示]|中标候选人公示|成交(?:结果)?公告|采购公告|竞争性(?:磋商|谈判)公告|询价公告|"
        r"公告期限|投标截止时间|获取招标文件|招标文件的获取|采购项目编号|invitation (?:to|for) (?:tender|bid)|notice of award|"
        r"request for (?:proposals?|quotations?|tenders?)\s*(?:no|number|ref)|tender notice|bids? (?:are|is) (?:hereby )?invited|"
        r"public procurement|contract award notice")),
    ("published financial disclosure", -0.45, re.compile(
        r"年度报告|年报摘要|半年度报告|季度报告|业绩快报|业绩预告|已披露|公告编号|证券代码|证券简称|董事会及全体董事保证|"
        r"信息披露|法定信息披露|form 10-[kq]\b|8-k\b|for immediate release|forward-looking statements|safe harbor|"
        r"(?:nasdaq|nyse|hkex|sse|szse)\s*:|investor relations|press release")),
    ("news byline", -0.35, re.compile(
        r"新华社|人民网|中新网|央视网|澎湃新闻|本报讯|本报记者|[(（]记者|记者\s*\S{2,4}\s*(?:报道|摄)|据.{2,10}报道|责任编辑|"
        r"新浪\S{0,4}讯|网易\S{0,4}讯|讯\s+\S{2,4}月\d+日|reuters\b|associated press|\(ap\)|bloomberg news\b|"
        r"reporting by|staff writer|correspondent\b")),
    ("copyright line", -0.15, re.compile(r"copyright\s*(?:©|\(c\))|©\s*(?:19|20)\d{2}|版权所有|all rights reserved")),
    ("open-source licence", -0.6, re.compile(
        r"licensed under the apache license|apache license,? version 2\.0|mit license\b|permission is hereby granted,? free of charge|"
        r"gnu (?:lesser |affero )?general public license|spdx-license-identifier|bsd[- ](?:2|3)-clause|mozilla public license|"
        r"this (?:program|library) is free software|open[- ]source|开源(?:项目|协议|许可)")),
    ("template blanks", -0.4, re.compile(
        r"_{4,}|(?:甲方|乙方|丙方|party [ab])\s*[:(（]\s*(?:_|＿|\s*$|盖章|签字)|\[(?:公司名称|company name|name|date|日期|insert|party)[^\]]{0,20}\]|"
        r"×{2,}|xx+公司|[(（]盖章[)）]|[(（]签字[)）]|(?:签字|签名|日期)\s*[:]\s*$|年\s{2,}月\s{2,}日|<\s*(?:company|party|name)[^>]{0,20}>",
        re.M)),
    ("statute text", -0.4, re.compile(
        r"第(?:[一二三四五六七八九十百零]+|\d+)条(?:\s|之[一二三四五六七八九十]|$)|中华人民共和国\S{1,20}法|本(?:法|规定|解释|条例|办法)(?:所称|自|第)|最高人民法院|"
        r"人民代表大会常务委员会|国务院令|section \d+\(?[a-z]?\)? of the\b|u\.s\.c\.|pursuant to\b.{0,30}\bact\b")),
    ("court or case report", -0.25, re.compile(
        r"人民法院|判决|一审|二审|原告|被告|上诉人|被上诉人|案件|诉讼|裁定|plaintiffs?\b|defendants?\b|court\b|"
        r"lawsuit\b|jury\b|verdict\b|ruled\b|settlement\b")),
    ("job advertisement", -0.35, re.compile(
        r"岗位职责|任职要求|任职资格|职位描述|薪资范围|薪资待遇|简历投递|投递简历|招聘(?:岗位|职位|要求|启事)|五险一金|"
        r"we are hiring|job description|apply now|salary range|pay range|equal opportunity employer|key responsibilities|"
        r"what we offer|how to apply")),
    ("public price", -0.3, re.compile(
        r"明码标价|建议零售价|官方指导价|零售价|官网价|促销价|活动价|市场参考价|价格表自.{0,8}起执行|"
        r"list price\b|msrp\b|recommended retail|retail price|catalog(?:ue)? price|published price|price list (?:valid|effective)")),
    ("datasheet", -0.2, re.compile(r"典型值|典型性能|产品说明书|技术数据表|typical (?:values?|properties|data)|datasheet\b|data sheet|technical data sheet")),
    ("about secrecy", -0.25, re.compile(
        r"保密意识|保密培训|保密教育|保密制度|保密管理(?:办法|规定|制度)|员工手册|培训课件|商业秘密(?:保护|的认定|的构成|是指)|"
        r"awareness training|security awareness|employee handbook|this policy applies|what is a trade secret|"
        r"trade secrets? (?:law|protection|are defined|is defined)|defend trade secrets act")),
    ("academic text", -0.3, re.compile(r"(?:摘要|关键词|关键字|abstract|keywords)\s*[:]|参考文献|doi\s*[:]|et al\.", re.M)),
    ("marketing or newsletter", -0.15, re.compile(
        r"欢迎(?:莅临|选购|咨询|来电)|关注我们|扫码关注|服务热线|客服热线|unsubscribe|newsletter|follow us|visit (?:our website|us at)|"
        r"www\.[a-z0-9-]+\.[a-z]{2,}")),
]


@register
class PublicContextDetector(Detector):
    """Signs of published, generic or template content (negative weights)."""

    name = "public_context"
    categories = (PUBLIC,)
    evidence_kind = "public_context"

    def detect(self, passage: Passage) -> list[Finding]:
        return self.detect_batch([passage])[0]

    def detect_batch(self, passages: Sequence[Passage]) -> list[list[Finding]]:
        text, starts = joined(passages)
        found: list[list[Finding]] = [[] for _ in passages]
        for cue, weight, pattern in CUES:
            seen: set[int] = set()  # the first match of a cue in each passage is enough
            for m in pattern.finditer(text):
                i = owner(starts, passages, m.start(), m.end())
                if i is None or i in seen:
                    continue
                seen.add(i)
                base = starts[i]
                found[i].append(self.finding(passages[i], m.start() - base, m.end() - base, PUBLIC, weight,
                                             f"{cue}: {snippet(m.group(0))}"))
        return found
