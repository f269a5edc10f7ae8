"""Midian's one error hierarchy.

::

    MidianError
     ├── UsageError                      bad arguments or configuration (exit code 2)
     ├── PolicyError                     a policy file that does not validate
     ├── ModelError                      a model directory whose manifest or files do not check out
     ├── RegistryError                   the secret registry cannot be opened or is inconsistent
     └── ExtractionError                 a document could not be read          status "error"
          ├── EncryptedDocumentError     password protected                    status "encrypted"
          ├── CorruptDocumentError       malformed, truncated, not what it claims  status "corrupt"
          ├── UnsupportedFormatError     a format or variant Midian cannot read   status "unsupported"
          ├── LimitExceededError         size, pages, archive depth, bomb ratio   status "too_large"
          └── ExtractionTimeout          the per-file time limit ran out          status "timeout"

Every extraction error carries the ``status`` that a scan result reports for it, so a result's
``status`` and ``error.type`` are derived from the exception in one place (:func:`status_of`).
Messages say what failed, the value received, and what to do.
"""

from __future__ import annotations


class MidianError(Exception):
    """Base of every error Midian raises on purpose."""


class UsageError(MidianError):
    """The caller asked for something impossible: a missing path, a bad flag value."""


class PolicyError(MidianError):
    """A policy file is missing, unreadable or does not validate."""


class ModelError(MidianError):
    """A model directory is missing files, or a file does not match its manifest."""


class RegistryError(MidianError):
    """The secret registry cannot be opened, or its evidence log does not verify."""


class ExtractionError(MidianError):
    """A document could not be turned into text blocks."""

    status = "error"


class EncryptedDocumentError(ExtractionError):
    """The document is password protected and no (correct) password was given."""

    status = "encrypted"


class CorruptDocumentError(ExtractionError):
    """The bytes are malformed, truncated, or not the format they claim to be."""

    status = "corrupt"


class UnsupportedFormatError(ExtractionError):
    """The format, or this variant of it, cannot be read on this machine."""

    status = "unsupported"


class LimitExceededError(ExtractionError):
    """A safety limit was hit: input size, pages, archive depth or members, expansion ratio."""

    status = "too_large"


class ExtractionTimeout(ExtractionError):
    """The per-file time limit ran out."""

    status = "timeout"


STATUSES = ("ok", "encrypted", "corrupt", "unsupported", "too_large", "timeout", "error")


def status_of(exc: BaseException) -> str:
    """The result status that reports ``exc``."""
    if isinstance(exc, ExtractionError):
        return exc.status
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, MemoryError):
        return "too_large"
    return "error"


def error_info(exc: BaseException) -> dict[str, str]:
    """The ``error`` object of a result: the exception's class name and its message."""
    message = str(exc) or exc.__class__.__doc__ or exc.__class__.__name__
    return {"type": type(exc).__name__, "message": message.strip()}
