"""A QR-looking SVG per login ticket (finder squares plus modules hashed from the token), as a data URL.

It is not a decodable QR code; it only has to look like one and change with every ticket.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

SIZE = 29
CELL = 6


def _finder(x0: int, y0: int) -> set[tuple[int, int]]:
    cells = set()
    for y in range(7):
        for x in range(7):
            if x in (0, 6) or y in (0, 6) or (2 <= x <= 4 and 2 <= y <= 4):
                cells.add((x0 + x, y0 + y))
    return cells


def qr_cells(token: str) -> set[tuple[int, int]]:
    finders = _finder(0, 0) | _finder(SIZE - 7, 0) | _finder(0, SIZE - 7)
    reserved = {(x, y) for x in range(8) for y in range(8)}
    reserved |= {(SIZE - 1 - x, y) for x in range(8) for y in range(8)}
    reserved |= {(x, SIZE - 1 - y) for x in range(8) for y in range(8)}
    bits = "".join(f"{b:08b}" for b in hashlib.sha512(token.encode()).digest() * 2)
    cells = set(finders)
    i = 0
    for y in range(SIZE):
        for x in range(SIZE):
            if (x, y) in reserved:
                continue
            if bits[i % len(bits)] == "1":
                cells.add((x, y))
            i += 1
    return cells


def qr_svg(token: str) -> str:
    cells = qr_cells(token)
    rects = "".join(
        f'<rect x="{x * CELL}" y="{y * CELL}" width="{CELL}" height="{CELL}"/>' for x, y in sorted(cells)
    )
    side = SIZE * CELL
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" viewBox="-12 -12 {side + 24} {side + 24}">'
        f'<rect x="-12" y="-12" width="{side + 24}" height="{side + 24}" fill="#fff"/><g fill="#000">{rects}</g></svg>'
    )


def qr_data_url(token: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(token).encode()).decode()


def qr_png(token: str, *, scale: int = 4, border: int = 2) -> bytes:
    """The same modules as a greyscale PNG (the `qr_data_png` surface variant)."""
    cells = qr_cells(token)
    side = (SIZE + 2 * border) * scale
    rows = []
    for py in range(side):
        y = py // scale - border
        row = bytes(0 if (px // scale - border, y) in cells else 255 for px in range(side))
        rows.append(b"\x00" + row)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def qr_image_url(token: str, *, png: bool = False) -> str:
    """The QR as a data URL: SVG, or PNG for the `qr_data_png` variant."""
    if png:
        return "data:image/png;base64," + base64.b64encode(qr_png(token)).decode()
    return qr_data_url(token)
