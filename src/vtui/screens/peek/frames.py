"""Turning a screenshot into what the terminal draws, off the loop.

Scale to fit the cells, keep the aspect ratio. Half-blocks: each cell is two pixels
stacked ("▀" in the top pixel's colour on the bottom pixel's), a cell being about
twice as high as wide; runs of equal cells share one segment. Kitty and Sixel: the
picture scaled to the cells' size in pixels, which textual-image sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

UPPER_HALF = "\u2580"
DEFAULT_CELL = (10, 20)  # pixels of a cell when the terminal does not say


@dataclass(frozen=True, slots=True)
class Frame:
    """One screenshot made ready for a view of `cells` (columns, rows)."""

    source_size: tuple[int, int]  # the guest's resolution
    cells: tuple[int, int]
    strips: tuple[Strip, ...] = ()  # half-blocks: one per row, already centred
    picture: Image.Image | None = None  # Kitty/Sixel: scaled to fit the cells' pixels
    picture_cells: tuple[int, int] = (0, 0)  # cells the picture covers


def fit(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """The largest size of the same aspect ratio within max_width x max_height."""
    if width <= 0 or height <= 0 or max_width <= 0 or max_height <= 0:
        return 0, 0
    scale = min(max_width / width, max_height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _scaled(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    # BOX averages the pixels a cell covers: the fastest filter that keeps thin text lines
    method = Image.Resampling.BOX if size[0] <= image.width else Image.Resampling.BILINEAR
    return image.resize(size, method)


def halfblock_frame(image: Image.Image, columns: int, rows: int) -> Frame:
    """`image` as rows of half-block cells, centred in columns x rows."""
    width, height = fit(image.width, image.height, columns, rows * 2)
    cells = (columns, rows)
    if not width:
        return Frame(image.size, cells)
    height += height % 2
    small = _scaled(image if image.mode == "RGB" else image.convert("RGB"), (width, height))
    data = small.tobytes()
    stride = width * 3
    styles: dict[bytes, Style] = {}
    colours: dict[bytes, Color] = {}
    left = (columns - width) // 2
    top = (rows - height // 2) // 2
    pad_left = [Segment(" " * left)] if left else []
    pad_right = [Segment(" " * (columns - width - left))] if columns - width - left else []
    blank = Strip([Segment(" " * columns)], columns)
    strips = [blank] * top
    for y in range(0, height, 2):
        upper = data[y * stride : (y + 1) * stride]
        lower = data[(y + 1) * stride : (y + 2) * stride]
        segments = list(pad_left)
        run_key, run = b"", 0
        for x in range(0, stride, 3):
            key = upper[x : x + 3] + lower[x : x + 3]
            if key == run_key:
                run += 1
                continue
            if run:
                segments.append(Segment(UPPER_HALF * run, _style(styles, colours, run_key)))
            run_key, run = key, 1
        segments.append(Segment(UPPER_HALF * run, _style(styles, colours, run_key)))
        strips.append(Strip(segments + pad_right, columns))
    strips += [blank] * (rows - len(strips))
    return Frame(image.size, cells, strips=tuple(strips))


def _style(cache: dict[bytes, Style], colours: dict[bytes, Color], key: bytes) -> Style:
    style = cache.get(key)
    if style is None:
        style = cache[key] = Style.from_color(_colour(colours, key[:3]), _colour(colours, key[3:]))
    return style


def _colour(cache: dict[bytes, Color], rgb: bytes) -> Color:
    colour = cache.get(rgb)
    if colour is None:
        colour = cache[rgb] = Color.from_rgb(rgb[0], rgb[1], rgb[2])
    return colour


def picture_frame(
    image: Image.Image, columns: int, rows: int, cell: tuple[int, int] = DEFAULT_CELL
) -> Frame:
    """`image` scaled to fit columns x rows cells of `cell` pixels (Kitty, Sixel)."""
    cell_w, cell_h = cell
    width, height = fit(image.width, image.height, columns * cell_w, rows * cell_h)
    if not width:
        return Frame(image.size, (columns, rows))
    picture = _scaled(image, (width, height))
    covered = (max(1, round(width / cell_w)), max(1, round(height / cell_h)))
    return Frame(image.size, (columns, rows), picture=picture, picture_cells=covered)


def make_frame(
    image: Image.Image, columns: int, rows: int, mode: str, cell: tuple[int, int] = DEFAULT_CELL
) -> Frame:
    if mode == "halfblock":
        return halfblock_frame(image, columns, rows)
    return picture_frame(image, columns, rows, cell)
