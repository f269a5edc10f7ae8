"""E-mail: RFC 822 messages (.eml), Outlook messages (.msg) and mailboxes (.mbox).

A message gives its From/To/Cc/Subject/Date as ``headers`` blocks, then its body (plain text preferred,
else the HTML body as text) as ``body`` blocks; every attachment, inline image and forwarded message
is read recursively through :meth:`Context.extract_child` under its decoded file name. A mailbox gives
each message as a child ``message-N.eml``.

Chinese mail is often labelled with the wrong charset (``gb2312`` for GBK text, ``iso-8859-1`` or no
label for GBK or UTF-8 bytes): GB labels are read as GB18030 (a superset), and Western or missing labels
on non-ASCII bytes are checked against the encoding detector of :mod:`scanner.extraction.text`.
"""

from __future__ import annotations

import codecs
import email
import logging
import mimetypes
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage, Message

from ..data import Block, Location
from ..errors import CorruptDocumentError, UnsupportedFormatError
from .base import Context, Extractor, Source, register
from .text import decode_text, detect_encoding, paragraph_blocks

HEADER_NAMES = ("From", "To", "Cc", "Subject", "Date")
_KNOWN_HEADERS = re.compile(
    rb"^(received|from|to|cc|mime-version|subject|message-id|return-path|date|delivered-to|reply-to|"
    rb"content-type|sender|x-mailer|in-reply-to|references|dkim-signature|thread-topic):",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?")  # field name: printable ASCII except ':'
_MBOX_SEPARATOR = re.compile(rb"(?:^|\n\r?\n)From [^\r\n]*\r?\n")
_GB_CHARSETS = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "euc-cn", "cn-gb", "csgb2312", "gb18030", "hz-gb-2312"}
_BIG5_CHARSETS = {"big5", "x-big5", "cn-big5", "csbig5", "big5-hkscs", "cp950"}
_WESTERN_CHARSETS = {"", "us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252"}
TNEF_MAGIC = b"\x78\x9f\x3e\x22"

# extract-msg logs a warning for every message without an encoding property; the fallback is ours to decide
logging.getLogger("extract_msg").setLevel(logging.ERROR)


# --- text helpers -------------------------------------------------------------------------------
def decode_payload(payload: bytes, charset: str | None) -> str:
    """Text of a MIME part's bytes under its declared ``charset``, repairing the usual mislabels."""
    charset = (charset or "").strip().strip('"').lower()
    if charset in _GB_CHARSETS:
        charset = "gb18030"
    elif charset in _BIG5_CHARSETS:
        charset = "cp950"
    if charset in _WESTERN_CHARSETS and not payload.isascii():
        guess = detect_encoding(payload)
        if guess in ("utf-8", "gb18030", "big5"):
            charset = guess
    if charset:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(payload)[0]


_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
               "pre", "section", "article", "header", "footer", "ul", "ol", "dl", "dt", "dd", "hr", "title"}


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: scripts and styles dropped, block elements on their own lines."""
    import lxml.html
    from lxml import etree

    if not markup.strip():
        return ""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)
    try:
        root = lxml.html.document_fromstring(markup.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError):
        return ""
    for bad in root.xpath("//script|//style|//head/meta|//noscript"):
        bad.drop_tree()
    parts: list[str] = []

    def walk(element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        block = tag.lower() in _BLOCK_TAGS
        if block:
            parts.append("\n\n" if tag.lower() not in ("br", "td") else "\n")
        if element.text and tag:
            parts.append(element.text)
        for child in element:
            walk(child)
        if tag.lower() in ("td", "th"):
            parts.append("\t")
        if block:
            parts.append("\n\n" if tag.lower() != "br" else "")
        if element.tail:
            parts.append(element.tail)

    walk(root)
    text = "".join(parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _body_blocks(text: str) -> Iterator[Block]:
    yield from paragraph_blocks(text, Location(part="body"))


def _header_block(name: str, value: str) -> Block | None:
    value = " ".join(value.split())
    if not value:
        return None
    return Block(text=f"{name}: {value}", kind="metadata", location=Location(part="headers"))


def _attachment_name(filename: str | None, content_type: str, counter: list[int], default_ext: str = ".bin") -> str:
    counter[0] += 1
    if filename:
        return filename.replace("\x00", "").replace("\\", "/").rsplit("/", 1)[-1] or f"attachment-{counter[0]}{default_ext}"
    ext = mimetypes.guess_extension(content_type) or default_ext
    return f"attachment-{counter[0]}{ext}"


def _child_blocks(ctx: Context, name: str, data: bytes) -> Iterator[Block]:
    path = f"{ctx.attachment}/{name}" if ctx.attachment else name
    yield Block(text=name, kind="metadata", location=Location(part="metadata", attachment=path))
    yield from ctx.extract_child(name, data)


# --- EML ----------------------------------------------------------------------------------------
def _raw_header(msg: Message, name: str) -> str | None:
    """A header's value, decoding raw 8-bit bytes (GBK or UTF-8 headers without RFC 2047) properly."""
    for key, raw in msg.raw_items():
        if key.lower() != name.lower():
            continue
        if isinstance(raw, str) and any("\udc80" <= ch <= "\udcff" for ch in raw):
            return decode_text(raw.encode("ascii", "surrogateescape"))[0]
        try:
            return str(msg[name])
        except Exception:  # a header too broken for the policy's parser: show it as it is
            return str(raw)
    return None


def _looks_like_eml(head: bytes) -> bool:
    head = head[:1024].lstrip(b"\r\n")
    if not _HEADER_LINE.match(head):
        return False
    return len({m.group(1).lower() for m in _KNOWN_HEADERS.finditer(head)}) >= 2


class _MessageReader:
    """Walks one parsed MIME message: headers, the readable body parts, then attachments."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.counter = [0]
        self.attachments = 0

    def blocks(self, msg: Message) -> Iterator[Block]:
        for name in HEADER_NAMES:
            value = _raw_header(msg, name)
            if value and (block := _header_block(name, value)) is not None:
                yield block
        yield from self._part(msg)

    def _part(self, part: Message) -> Iterator[Block]:
        self.ctx.check_time()
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or (ctype.startswith("message/") and part.is_multipart()):
            yield from self._forwarded(part)
        elif part.is_multipart():
            children = part.get_payload()
            if not isinstance(children, list):
                return
            if ctype == "multipart/alternative" and children:
                yield from self._part(self._preferred(children))
            else:
                for child in children:
                    yield from self._part(child)
        elif self._is_body(part, ctype):
            payload = part.get_payload(decode=True) or b""
            text = decode_payload(payload, part.get_content_charset())
            yield from _body_blocks(html_to_text(text) if ctype == "text/html" else text)
        else:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                yield from self._attach(_attachment_name(part.get_filename(), ctype, self.counter), payload)

    @staticmethod
    def _is_body(part: Message, ctype: str) -> bool:
        return ctype in ("text/plain", "text/html") and part.get_content_disposition() != "attachment" \
            and not part.get_filename()

    @staticmethod
    def _preferred(children: list[Message]) -> Message:
        """The alternative to read: plain text when present, else the richest (last) one."""
        for child in children:
            if child.get_content_type() == "text/plain" and (child.get_payload(decode=True) or b"").strip():
                return child
        return children[-1]

    def _forwarded(self, part: Message) -> Iterator[Block]:
        inner = part.get_payload()
        message = inner[0] if isinstance(inner, list) and inner else None
        if not isinstance(message, Message):
            return
        try:
            data = message.as_bytes(policy=policy.compat32)
        except Exception:  # a message the generator cannot re-serialise: keep its text at least
            data = message.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
        subject = _raw_header(message, "Subject") or ""
        name = part.get_filename() or (re.sub(r"[\\/\x00-\x1f]", "_", subject.strip())[:100] + ".eml"
                                       if subject.strip() else None)
        yield from self._attach(_attachment_name(name, "message/rfc822", self.counter, ".eml"), data)

    def _attach(self, name: str, data: bytes) -> Iterator[Block]:
        self.attachments += 1
        if self.attachments > self.ctx.settings.max_archive_members:
            self.ctx.warn(f"more than {self.ctx.settings.max_archive_members} attachments; the rest were skipped")
            return
        yield from _child_blocks(self.ctx, name, data)


def parse_eml(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


@register
class EmlExtractor(Extractor):
    """RFC 822 / MIME messages (.eml), recognised by their header lines."""

    name = "eml"
    extensions = (".eml", ".mht", ".mhtml")
    priority = 60

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.suffix == ".eml" or _looks_like_eml(source.head)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        data = source.data
        if detect_encoding(data[:4096]).startswith("utf-16"):  # saved by a Windows tool as "Unicode"
            data = decode_text(data)[0].encode("utf-8", "surrogateescape")
        if data.startswith(b"From "):  # a single message saved with its mbox separator line
            data = data.split(b"\n", 1)[1] if b"\n" in data else b""
        try:
            msg = parse_eml(data)
        except Exception as exc:  # the parser is lenient; anything it raises means unreadable bytes
            raise CorruptDocumentError(f"{source.name}: not a readable e-mail message ({exc})") from exc
        if not msg.keys():
            raise CorruptDocumentError(f"{source.name}: no e-mail headers found")
        yield from _MessageReader(ctx).blocks(msg)


# --- MBOX ---------------------------------------------------------------------------------------
def split_mbox(data: bytes) -> list[bytes]:
    """Messages of a mailbox, without their ``From `` separator lines."""
    starts = [(m.start(), m.end()) for m in _MBOX_SEPARATOR.finditer(data)]
    messages = []
    for i, (_, body_start) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(data)
        chunk = data[body_start:end]
        if chunk.strip():
            messages.append(re.sub(rb"(?m)^>(>*From )", rb"\1", chunk))
    return messages


@register
class MboxExtractor(Extractor):
    """Unix mailboxes: every message becomes a child document ``message-N.eml``."""

    name = "mbox"
    extensions = (".mbox", ".mbx")
    priority = 58

    @classmethod
    def sniff(cls, source: Source) -> bool:
        first = source.head.split(b"\n", 1)[0]
        return source.suffix != ".eml" and first.startswith(b"From ") and not first.startswith(b"From: ")

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        messages = split_mbox(source.data)
        if len(messages) > ctx.settings.max_archive_members:
            ctx.warn(f"mailbox holds {len(messages)} messages; only the first {ctx.settings.max_archive_members} were read")
        for number, message in enumerate(messages[: ctx.settings.max_archive_members], 1):
            ctx.check_time()
            yield from ctx.extract_child(f"message-{number}.eml", message)


# --- MSG ----------------------------------------------------------------------------------------
_CODEPAGE_PROPS = ("3FFD0003", "3FDE0003")  # PR_MESSAGE_CODEPAGE, PR_INTERNET_CPID
_CODEPAGES = {936: "gb18030", 950: "cp950", 54936: "gb18030", 20936: "gb18030", 65001: "utf-8", 28591: "latin-1",
              20127: "ascii", 52936: "hz"}


def _msg_encoding(msg: object) -> str | None:
    """The codec for a non-Unicode MSG's 8-bit strings, from its code page properties."""
    props = getattr(msg, "props", None)
    if props is None:
        return None
    for key in _CODEPAGE_PROPS:
        prop = props.get(key)
        value = getattr(prop, "value", None)
        if isinstance(value, int) and value > 0:
            name = _CODEPAGES.get(value, f"cp{value}")
            try:
                return codecs.lookup(name).name
            except LookupError:
                continue
    return None


def _open_msg(data: bytes, name: str, encoding: str | None = None):  # type: ignore[no-untyped-def]
    import extract_msg

    kwargs = {"overrideEncoding": encoding} if encoding else {}
    try:
        return extract_msg.openMsg(data, delayAttachments=False, **kwargs)
    except Exception as exc:  # extract_msg raises many kinds of errors on damaged files
        raise CorruptDocumentError(f"{name}: not a readable Outlook message ({type(exc).__name__}: {exc})") from exc


def _safe(getter):  # type: ignore[no-untyped-def]
    """A property of an extract_msg object, or None when computing it fails on a damaged file."""
    try:
        return getter()
    except Exception:  # damaged properties must not lose the rest of the message
        return None


def _msg_body(msg: object) -> str:
    body = _safe(lambda: msg.body)  # type: ignore[attr-defined]
    if isinstance(body, str) and body.strip():
        return body
    html = _safe(lambda: msg.getStream("__substg1.0_10130102"))  # type: ignore[attr-defined]
    if isinstance(html, bytes) and html.strip():
        return html_to_text(decode_text(html)[0])
    rtf = _safe(lambda: msg.rtfBody)  # type: ignore[attr-defined]
    if isinstance(rtf, bytes) and rtf.strip():
        from striprtf.striprtf import rtf_to_text

        return _safe(lambda: rtf_to_text(rtf.decode("latin-1"), errors="ignore")) or ""
    return ""


@register
class MsgExtractor(Extractor):
    """Outlook .msg files (extract-msg): headers, body, attachments and embedded messages."""

    name = "msg"
    extensions = (".msg",)
    priority = 20

    @classmethod
    def sniff(cls, source: Source) -> bool:
        streams = source.ole_streams
        return any(s.startswith("__substg1.0_") or s == "__properties_version1.0" for s in streams)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        msg = _open_msg(source.data, source.name)
        try:
            if not _safe(lambda: msg.areStringsUnicode) and (encoding := _msg_encoding(msg)):
                msg.close()
                msg = _open_msg(source.data, source.name, encoding)
            yield from self._blocks(msg, ctx)
        finally:
            _safe(msg.close)

    def _blocks(self, msg, ctx: Context) -> Iterator[Block]:  # type: ignore[no-untyped-def]
        values = {
            "From": _safe(lambda: msg.sender),
            "To": _safe(lambda: msg.to),
            "Cc": _safe(lambda: msg.cc),
            "Subject": _safe(lambda: msg.subject),
            "Date": _safe(lambda: msg.date),
        }
        for name in HEADER_NAMES:
            value = values[name]
            if value and (block := _header_block(name, str(value).replace("\x00", ""))) is not None:
                yield block
        yield from _body_blocks(_msg_body(msg))
        counter = [0]
        attachments = _safe(lambda: msg.attachments) or []
        for number, att in enumerate(attachments[: ctx.settings.max_archive_members], 1):
            ctx.check_time()
            filename = _safe(lambda a=att: a.longFilename or a.shortFilename or a.displayName)  # type: ignore[misc]
            data = _safe(lambda a=att: a.data)  # type: ignore[misc]
            if isinstance(data, bytes):
                yield from _child_blocks(ctx, _attachment_name(filename, "application/octet-stream", counter), data)
            elif data is not None and hasattr(data, "exportBytes"):
                embedded = _safe(data.exportBytes)
                if embedded:
                    name = filename or _safe(lambda d=data: d.subject) or f"attachment-{number}"  # type: ignore[misc]
                    name = name if name.lower().endswith(".msg") else f"{name}.msg"
                    yield from _child_blocks(ctx, _attachment_name(name, "application/vnd.ms-outlook", counter), embedded)
                else:
                    ctx.warn(f"embedded message {filename or number} could not be exported; skipped")
            elif data is not None:
                ctx.warn(f"attachment {filename or number} of kind {type(data).__name__} is not readable; skipped")


# --- TNEF ---------------------------------------------------------------------------------------
@register
class TnefExtractor(Extractor):
    """TNEF (winmail.dat) is recognised and reported, not mistaken for text."""

    name = "tnef"
    priority = 30

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.data.startswith(TNEF_MAGIC)

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        raise UnsupportedFormatError(
            f"{source.name}: TNEF (winmail.dat) is not supported; ask the sender to resend in plain or HTML format"
        )
