"""Uploads: PDF, JPEG or PNG only, recognised by content, size-limited, stored by content hash.

A file is stored once under `<upload_dir>/<aa>/<bb>/<sha256>` however often it is uploaded, so the
directory can live on a volume shared by several replicas. The caller records the returned metadata.
This module is the one owner of that layout: `store_upload` (a streamed upload) and `write_stored`
(bytes already checked by the caller) write it, always through a temporary file of a unique name
renamed into place, so two replicas storing the same file at once neither collide nor leave a
half-written file under the final name; `read_stored` reads it, and also finds files stored
under a service's earlier layout.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi import UploadFile

from shared.problems import (
    AppError,
    PayloadTooLargeError,
    UnprocessableError,
    UnsupportedMediaTypeError,
)

# Magic numbers: what the bytes are, whatever the file is called.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
CHUNK = 64 * 1024
HEAD_BYTES = 64 * 1024  # enough to recognise the file type
MAX_PIXELS = 40_000_000  # a phone photo is ~12 MP; far larger is a decompression bomb


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size_bytes: int
    content_type: str
    filename: str
    path: Path


def sniff(head: bytes) -> str | None:
    for magic, media_type in _SIGNATURES:
        if head.startswith(magic):
            return media_type
    return None


def image_pixels(data: bytes | mmap.mmap, media_type: str) -> int | None:
    """Width x height declared by a whole PNG or JPEG, read from its headers without decoding.

    A JPEG is walked marker by marker up to its first scan, wherever the frame header sits (a
    large EXIF block can push it far past the first kilobytes), skipping stray bytes between
    markers the way decoders do; the largest frame declared counts.
    """
    if media_type == "image/png":
        if len(data) >= 24 and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big") * int.from_bytes(data[20:24], "big")
        return None
    if media_type != "image/jpeg":
        return None
    largest: int | None = None
    i = 2
    end = len(data)
    while i < end:
        if data[i] != 0xFF:
            i = data.find(b"\xff", i)  # stray bytes: resynchronise on the next marker
            if i < 0:
                break
        while i < end and data[i] == 0xFF:
            i += 1  # fill bytes
        if i >= end:
            break
        marker = data[i]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue  # markers without a length
        if marker in (0xD9, 0xDA) or i + 2 > end:
            break  # end of image, or the first scan: every frame header comes before it
        length = int.from_bytes(data[i : i + 2], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and i + 7 <= end:
            height = int.from_bytes(data[i + 3 : i + 5], "big")
            width = int.from_bytes(data[i + 5 : i + 7], "big")
            largest = max(largest or 0, width * height)
        i += max(length, 2)
    return largest


def is_plain_filename(name: str) -> bool:
    """Browsers send a bare name; a path (`../x.pdf`, `a\\b.pdf`) or a control character is not."""
    return not (any(c in name for c in "/\\") or name in (".", "..") or not name.isprintable())


def safe_name(name: str | None, fallback: str = "berkas") -> str:
    """The name an upload is kept under: its last path part, printable characters, at most 200."""
    base = "".join(ch for ch in os.path.basename(name or "") if ch.isprintable()).strip()
    return base[:200] or fallback


async def store_upload(upload: UploadFile, *, upload_dir: Path, max_bytes: int) -> StoredFile:
    """Check and store an upload; raises 413, 415 or 422 problems and leaves nothing behind."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=upload_dir, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLargeError(
                        f"The file is larger than {max_bytes // 1024} KiB", max_bytes=max_bytes
                    )
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UnprocessableError("The file is empty")
        media_type = sniff(head)
        if media_type is None:
            raise UnsupportedMediaTypeError(
                "Only PDF, JPEG and PNG files are accepted (checked by content, not by name)"
            )
        pixels = _file_pixels(tmp, media_type)
        if pixels is not None and pixels > MAX_PIXELS:
            raise UnprocessableError(
                f"The image has {pixels:,} pixels; at most {MAX_PIXELS:,} are accepted"
            )
        sha = digest.hexdigest()
        target = upload_dir / sha[:2] / sha[2:4] / sha
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            tmp.unlink()
        else:
            os.replace(tmp, target)
        return StoredFile(sha, size, media_type, safe_name(upload.filename), target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _file_pixels(path: Path, media_type: str) -> int | None:
    if media_type not in ("image/png", "image/jpeg"):
        return None
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return image_pixels(data, media_type)


@dataclass(frozen=True)
class UploadProblems:
    """The problem each refusal of `check_content` raises: a service keeps its documented types."""

    unsupported: type[AppError] = UnsupportedMediaTypeError  # empty, or not PDF/JPEG/PNG
    bad_name: type[AppError] = UnprocessableError  # a path or control characters in the name
    too_many_pixels: type[AppError] = UnprocessableError  # a decompression bomb


def check_content(
    content: bytes, *, filename: str, max_bytes: int, problems: UploadProblems
) -> tuple[str, str]:
    """An upload already held in memory, checked in this order: size (413 `payload-too-large`),
    not empty, a plain file name, PDF/JPEG/PNG by content, pixel count. Returns its media type
    and SHA-256 (hex); `write_stored` then stores it."""
    if len(content) > max_bytes:
        raise PayloadTooLargeError(
            f"The file is larger than {max_bytes // 1024} KiB", max_bytes=max_bytes
        )
    if not content:
        raise problems.unsupported("The file is empty")
    if filename and not is_plain_filename(filename):
        raise problems.bad_name(
            "The file name must be a plain name without folders or control characters"
        )
    media_type = sniff(content)
    if media_type is None:
        raise problems.unsupported(
            "Only PDF, JPEG and PNG files are accepted (checked by content, not by name)"
        )
    pixels = image_pixels(content, media_type)
    if pixels is not None and pixels > MAX_PIXELS:
        raise problems.too_many_pixels(
            f"The image has {pixels:,} pixels; at most {MAX_PIXELS:,} are accepted"
        )
    return media_type, hashlib.sha256(content).hexdigest()


def stored_path(upload_dir: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return upload_dir / sha256[:2] / sha256[2:4] / sha256


def write_stored(upload_dir: Path, sha256: str, content: bytes) -> Path:
    """Store `content`, whose SHA-256 is `sha256`, at its place in the layout (once)."""
    target = stored_path(upload_dir, sha256)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def read_stored(upload_dir: Path, sha256: str, earlier: Sequence[Path] = ()) -> bytes:
    """The stored file `sha256`: at its place in the layout, else at the first of the `earlier`
    paths (where a service stored it before this layout) that exists; FileNotFoundError if none."""
    for path in (stored_path(upload_dir, sha256), *earlier):
        try:
            return path.read_bytes()
        except FileNotFoundError:
            continue
    raise FileNotFoundError(f"stored file {sha256} is missing")
