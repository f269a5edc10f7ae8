"""Password-encrypted Office files, and the decryption the legacy formats share.

Office 2007+ encrypts a .docx/.xlsx/.pptx by wrapping the whole package in an OLE2 compound file with
an ``EncryptionInfo`` and an ``EncryptedPackage`` stream. Without a password that is all there is to
say (status ``encrypted``); with ``--password``, msoffcrypto-tool decrypts the package and the plain
bytes go back to the registry as the same document, so they are read by whichever extractor owns the
format. Legacy .doc/.xls/.ppt encryption (RC4, CryptoAPI) is decrypted by the same :func:`decrypt_office`.

Excel protects "read-only recommended" workbooks with the fixed password ``VelvetSweatshop``; such
files open without asking anyone for a password, and so does Midian.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from ..data import Block
from ..errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError
from .base import ZIP_MAGICS, Context, Extractor, Source, register

EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"


def decrypt_office(data: bytes, password: str, name: str) -> bytes:
    """Decrypt a legacy or OOXML Office file with msoffcrypto-tool.

    Raises:
        EncryptedDocumentError: the password does not open the file.
        UnsupportedFormatError: an encryption scheme msoffcrypto-tool cannot remove.
        CorruptDocumentError: the encrypted container is damaged.
    """
    import msoffcrypto
    from msoffcrypto import exceptions

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=password)
        out = io.BytesIO()
        office.decrypt(out)
    except exceptions.InvalidKeyError as exc:
        raise EncryptedDocumentError(f"{name}: the password given did not open the document; check --password") from exc
    except (exceptions.DecryptionError, exceptions.FileFormatError) as exc:
        if "password" in str(exc).lower() or "key" in str(exc).lower():
            raise EncryptedDocumentError(f"{name}: the password given did not open the document; check --password") from exc
        raise UnsupportedFormatError(f"{name}: its encryption cannot be removed ({exc})") from exc
    except ValueError as exc:
        if "key size" in str(exc).lower():  # e.g. a 160-bit AES key from an old Office SP
            raise UnsupportedFormatError(f"{name}: msoffcrypto-tool cannot decrypt this encryption variant ({exc})") from exc
        raise CorruptDocumentError(f"{name}: decryption failed on damaged data ({exc})") from exc
    except Exception as exc:  # msoffcrypto trips over damaged files in many ways
        raise CorruptDocumentError(f"{name}: decryption failed on damaged data ({type(exc).__name__}: {exc})") from exc
    return out.getvalue()


def decrypt_package(source: Source, password: str | None) -> bytes:
    """The plain OOXML package inside an encrypted Office file (a ZIP), or an EncryptedDocumentError."""
    if password is None:
        try:
            data = decrypt_office(source.data, EXCEL_DEFAULT_PASSWORD, source.name)
        except (EncryptedDocumentError, UnsupportedFormatError, CorruptDocumentError):
            raise EncryptedDocumentError(
                f"{source.name}: the Office document is encrypted with a password; pass --password to read it"
            ) from None
    else:
        try:
            data = decrypt_office(source.data, password, source.name)
        except EncryptedDocumentError:
            try:  # the file may only be write-protected, with Excel's built-in password
                data = decrypt_office(source.data, EXCEL_DEFAULT_PASSWORD, source.name)
            except Exception:  # report the caller's password as the one that failed
                raise EncryptedDocumentError(
                    f"{source.name}: the password given did not open the document; check --password"
                ) from None
    if data[:4] not in ZIP_MAGICS:
        raise CorruptDocumentError(f"{source.name}: decryption did not yield an Office package (starts with {data[:4]!r})")
    return data


@register
class EncryptedOfficeExtractor(Extractor):
    """OOXML documents wrapped in an encrypted OLE container (EncryptionInfo + EncryptedPackage)."""

    name = "encrypted-office"
    priority = 15

    @classmethod
    def sniff(cls, source: Source) -> bool:
        return source.is_ole and {"encryptioninfo", "encryptedpackage"} <= source.ole_streams

    def extract(self, source: Source, ctx: Context) -> Iterator[Block]:
        data = decrypt_package(source, ctx.password)
        ctx.charge(len(data), "decrypted package")
        from . import extract_blocks  # late import: the registry imports this module

        yield from extract_blocks(Source(source.name, data), ctx)
