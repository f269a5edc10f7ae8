"""Identifiers with real checksums: 居民身份证, 统一社会信用代码, bank cards, phones, e-mail addresses.

Check digits are verified with python-stdnum (ISO 7064 MOD 11-2 plus the birth date and the county
registry for 居民身份证, GB 32100 for 统一社会信用代码, Luhn for cards), so a random 18-digit order
number is not taken for an ID card. Personal identifiers are a secondary signal (``personal_info``);
a company's credit code supports a customer or supplier list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_2

from ..data import Finding
from ..segmentation import Passage
from .base import Detector, joined, owner, register

RESIDENT_ID_WEIGHT = 0.5
BANK_CARD_WEIGHT = 0.4
MOBILE_WEIGHT = 0.2
LANDLINE_WEIGHT = 0.12
EMAIL_WEIGHT = 0.12
CREDIT_CODE_WEIGHT = 0.12

_RESIDENT_ID = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx](?![0-9a-z])")
_LEGACY_ID = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9a-z])")
_PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
              61, 62, 63, 64, 65, 71, 81, 82}
_CREDIT_CODE = re.compile(r"[0-9a-hj-npqrtuwxy]{2} ?\d{6} ?[0-9a-hj-npqrtuwxy]{10}(?![0-9a-z])")
_CARD = re.compile(r"(?:\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?|\d{4}[ -]?\d{6}[ -]?\d{4,5}|\d{12,19})(?![\d-])")
_MOBILE = re.compile(r"(?:\+86[- ]?|86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?:\(0\d{2,3}\)|0\d{2,3}-)\s?[2-9]\d{6,7}(?:-\d{1,5})?(?!\d)")
_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24}(?![\w-])")
# (issuer identification prefix, allowed lengths) of the card networks
_NETWORKS = (
    (re.compile(r"^62"), range(16, 20)),  # UnionPay 银联
    (re.compile(r"^4"), (13, 16, 19)),  # Visa
    (re.compile(r"^(?:5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)"), (16,)),  # Mastercard
    (re.compile(r"^3[47]"), (15,)),  # American Express
    (re.compile(r"^(?:30[0-5]|309|36|38|39)"), (14, 16, 19)),  # Diners Club
    (re.compile(r"^(?:6011|64[4-9]|65)"), (16, 19)),  # Discover
    (re.compile(r"^35(?:2[89]|[3-8])"), (16, 19)),  # JCB
    (re.compile(r"^(?:50|5[6-9]|6[0-9])"), range(12, 20)),  # Maestro and Dankort (5019)
    (re.compile(r"^1"), (15,)),  # UATP
)


def _valid_resident_id(number: str) -> bool:
    """An 18-digit 居民身份证: ISO 7064 check digit, a real birth date, a region code that exists.

    The region may have been created after the birth year (people keep numbers of renamed or merged
    counties, and 港澳台居民居住证 use 81/82/83 codes): an ID in a document is personal data either
    way, so the county registry is used in its lenient form.
    """
    from stdnum import numdb

    if not mod_11_2.is_valid(number):
        return False
    try:
        birth = ric.get_birth_date(number)
    except Exception:  # stdnum raises its own exceptions for impossible dates
        return False
    if birth.year < 1900:
        return False
    info = {k: v for _, props in numdb.get("cn/loc").info(number[:6]) for k, v in props.items()}
    return "county" in info or number[:2] in ("81", "82", "83")


def _valid_legacy_id(number: str) -> bool:
    """A first-generation (15-digit, before 1999) 居民身份证: a known province and a real 19YY birth date."""
    import datetime

    try:
        datetime.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return int(number[:2]) in _PROVINCES


def _card_network(digits: str) -> bool:
    return any(prefix.match(digits) and len(digits) in lengths for prefix, lengths in _NETWORKS)


@register
class IdentifierDetector(Detector):
    """Checksummed identifiers and contact details."""

    name = "identifiers"
    categories = ("personal_info", "business.customer")

    def detect(self, passage: Passage) -> list[Finding]:
        return self.detect_batch([passage])[0]

    def detect_batch(self, passages: Sequence[Passage]) -> list[list[Finding]]:
        text, starts = joined(passages)
        found: list[list[Finding]] = [[] for _ in passages]
        taken: list[list[tuple[int, int]]] = [[] for _ in passages]

        def add(m: re.Match[str], category: str, weight: float, detail: str, before: str = "0123456789abcdefghijklmnopqrstuvwxyz") -> None:
            # what a look-behind would check, done here so the patterns keep a literal start (fast scanning)
            if m.start() > 0 and text[m.start() - 1] in before:
                return
            i = owner(starts, passages, m.start(), m.end())
            if i is None:
                return
            start, end = m.start() - starts[i], m.end() - starts[i]
            if any(s < end and start < e for s, e in taken[i]):
                return
            taken[i].append((start, end))
            found[i].append(self.finding(passages[i], start, end, category, weight, detail))

        for m in _RESIDENT_ID.finditer(text):
            if _valid_resident_id(m.group(0).upper()):
                add(m, "personal_info", RESIDENT_ID_WEIGHT, "居民身份证 number (valid check digit, birth date and region)")
        for m in _LEGACY_ID.finditer(text):
            if _valid_legacy_id(m.group(0)):
                add(m, "personal_info", RESIDENT_ID_WEIGHT, "居民身份证 number (15-digit first generation, valid birth date and province)")
        for m in _CREDIT_CODE.finditer(text):
            code = m.group(0).upper().replace(" ", "")
            if uscc.is_valid(code) and not (code.isdigit() and _valid_resident_id(code)):
                add(m, "business.customer", CREDIT_CODE_WEIGHT, "统一社会信用代码 (valid GB 32100 check character)")
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 12 <= len(digits) <= 19 and luhn.is_valid(digits) and _card_network(digits):
                add(m, "personal_info", BANK_CARD_WEIGHT, "bank card number (valid Luhn check digit)", before="0123456789-")
        for m in _MOBILE.finditer(text):
            add(m, "personal_info", MOBILE_WEIGHT, "mobile phone number", before="0123456789+")
        for m in _LANDLINE.finditer(text):
            add(m, "personal_info", LANDLINE_WEIGHT, "landline phone number", before="0123456789")
        for m in _EMAIL.finditer(text):
            if m.start() > 0 and text[m.start() - 1] in "._%+-":
                continue
            add(m, "personal_info", EMAIL_WEIGHT, "e-mail address", before="0123456789abcdefghijklmnopqrstuvwxyz_")
        return found
