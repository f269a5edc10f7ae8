"""Identifiers with real checksums: 居民身份证, 统一社会信用代码, bank cards, phones, e-mail addresses.

Check digits are verified with python-stdnum (ISO 7064 MOD 11-2 plus the birth date and the county
registry for 居民身份证, GB 32100 for 统一社会信用代码, Luhn for cards), so a random 18-digit order
number is not taken for an ID card. Personal identifiers are a secondary signal (``personal_info``);
a company's credit code supports a customer or supplier list.
"""

from __future__ import annotations

import re

from stdnum import luhn
from stdnum.cn import ric, uscc

from ..data import Finding
from ..segmentation import Passage
from .base import Detector, register

RESIDENT_ID_WEIGHT = 0.5
BANK_CARD_WEIGHT = 0.4
MOBILE_WEIGHT = 0.2
LANDLINE_WEIGHT = 0.12
EMAIL_WEIGHT = 0.12
CREDIT_CODE_WEIGHT = 0.12

_RESIDENT_ID = re.compile(r"(?<![0-9a-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dx](?![0-9a-z])")
_CREDIT_CODE = re.compile(r"(?<![0-9a-z])[0-9a-hj-npqrtuwxy]{2}\d{6}[0-9a-hj-npqrtuwxy]{10}(?![0-9a-z])")
_CARD = re.compile(r"(?<![\d-])(?:\d{4}[ -]?){3}\d{1,7}(?![\d-])")
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<![\d])(?:\(0\d{2,3}\)|0\d{2,3}-)\s?[2-9]\d{6,7}(?:-\d{1,5})?(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24}(?![\w-])")
_CARD_CONTEXT = re.compile(r"卡号|银行卡|信用卡|借记卡|账号|帐号|开户|card|account|iban")
# issuer prefixes of UnionPay, Visa, Mastercard, Amex, JCB
_CARD_PREFIX = re.compile(r"^(?:62|4|5[1-5]|2[2-7]|3[47]|35)")


@register
class IdentifierDetector(Detector):
    """Checksummed identifiers and contact details."""

    name = "identifiers"
    categories = ("personal_info", "business.customer")

    def detect(self, passage: Passage) -> list[Finding]:
        text = passage.norm_text
        found: list[Finding] = []
        taken: list[tuple[int, int]] = []

        def add(m: re.Match[str], category: str, weight: float, detail: str) -> None:
            if any(s < m.end() and m.start() < e for s, e in taken):
                return
            taken.append((m.start(), m.end()))
            found.append(self.finding(passage, m.start(), m.end(), category, weight, detail))

        for m in _RESIDENT_ID.finditer(text):
            if ric.is_valid(m.group(0).upper()):
                add(m, "personal_info", RESIDENT_ID_WEIGHT, "居民身份证 number (valid check digit, birth date and region)")
        for m in _CREDIT_CODE.finditer(text):
            code = m.group(0).upper()
            if not code.isdigit() and uscc.is_valid(code) or code.isdigit() and uscc.is_valid(code) and not ric.is_valid(code):
                add(m, "business.customer", CREDIT_CODE_WEIGHT, "统一社会信用代码 (valid GB 32100 check character)")
        card_context = bool(_CARD_CONTEXT.search(text))
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn.is_valid(digits) and (card_context or _CARD_PREFIX.match(digits)):
                add(m, "personal_info", BANK_CARD_WEIGHT, "bank card number (valid Luhn check digit)")
        for m in _MOBILE.finditer(text):
            add(m, "personal_info", MOBILE_WEIGHT, "mobile phone number")
        for m in _LANDLINE.finditer(text):
            add(m, "personal_info", LANDLINE_WEIGHT, "landline phone number")
        for m in _EMAIL.finditer(text):
            add(m, "personal_info", EMAIL_WEIGHT, "e-mail address")
        return found
