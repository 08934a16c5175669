"""What the API's routes share: id paths, CSV uploads and their size limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, UploadFile

from erk import schemas
from erk.imports import XLSX_MEDIA
from shared.problems import PayloadTooLargeError

IdPath = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]


MAX_CSV_BYTES = 20 * 1024 * 1024


XLSX = XLSX_MEDIA


async def csv_bytes(file: UploadFile) -> bytes:
    content = await file.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        raise PayloadTooLargeError(f"A CSV import may have at most {MAX_CSV_BYTES} bytes")
    return content
