"""Builds docs/figures/contact-sheet.png: every tutorial figure of docs/figures/ as a
thumbnail with its name, four to a row, for a reviewer to look at all of them at once.
Called by scripts/tutorial-figures.sh; needs Pillow (python3-pil, installed by
`scripts/setup.sh bench`).

    /usr/bin/python3 scripts/contact-sheet.py docs/figures docs/figures/contact-sheet.png
"""
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

COLUMNS = 4
THUMB_WIDTH = 450
CAPTION = 28
MARGIN = 12


def main(folder, target):
    paths = sorted(p for p in Path(folder).glob("*.png") if p.resolve() != Path(target).resolve())
    thumbs = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        height = round(image.height * THUMB_WIDTH / image.width)
        thumbs.append((path.stem, image.resize((THUMB_WIDTH, height), Image.LANCZOS)))
    rows = [thumbs[i:i + COLUMNS] for i in range(0, len(thumbs), COLUMNS)]
    row_heights = [max(t.height for _, t in row) + CAPTION for row in rows]
    width = COLUMNS * (THUMB_WIDTH + MARGIN) + MARGIN
    sheet = Image.new("RGB", (width, sum(row_heights) + MARGIN * (len(rows) + 1)), "white")
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 18)
    except OSError:
        font = ImageFont.load_default()
    y = MARGIN
    for row, row_height in zip(rows, row_heights):
        x = MARGIN
        for name, thumb in row:
            draw.text((x, y + 4), name, fill="black", font=font)
            sheet.paste(thumb, (x, y + CAPTION))
            draw.rectangle([x - 1, y + CAPTION - 1, x + thumb.width, y + CAPTION + thumb.height],
                           outline=(180, 180, 180))
            x += THUMB_WIDTH + MARGIN
        y += row_height + MARGIN
    sheet.save(target, optimize=True)
    print(f"{target}: {len(thumbs)} figures, {sheet.width} x {sheet.height} px")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
