"""OFD files made from a sample's PDF, written the way OFD producers (版式办公软件, the
converters behind 【下载OFD】 links) lay them out: OFD.xml → Doc_0/Document.xml → one
Content.xml per page; a `TextObject` per run of text whose characters advance by a
`DeltaX` (`g N v` for N equal steps), its size in points under a CTM that scales to
millimetres; a `PathObject` per ruling line or cell rectangle, drawn relative to its
Boundary; fonts in PublicRes.xml. Units are millimetres, y downwards.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape, quoteattr

import pymupdf

MM_PER_POINT = 25.4 / 72
_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def _mm(value: float) -> str:
    return f"{value * MM_PER_POINT:.3f}".rstrip("0").rstrip(".")


def _steps(values: list[float]) -> str:
    """DeltaX as producers compress it: runs of one step as `g N v`."""
    out, index = [], 0
    while index < len(values):
        run = index
        while run < len(values) and abs(values[run] - values[index]) < 1e-3:
            run += 1
        step = f"{values[index]:.3f}".rstrip("0").rstrip(".")
        out.append(f"g {run - index} {step}" if run - index > 1 else step)
        index = run
    return " ".join(out)


def _text_objects(page, next_id) -> list[str]:
    objects = []
    for block in page.get_text("rawdict")["blocks"]:
        for line in block.get("lines", []):
            for span in line["spans"]:
                chars = [c for c in span["chars"]]
                if not "".join(c["c"] for c in chars).strip():
                    continue
                x0, y0, x1, y1 = span["bbox"]
                origin_x, origin_y = chars[0]["origin"]
                # in points under a CTM that scales points to millimetres
                steps = [b["origin"][0] - a["origin"][0] for a, b in zip(chars, chars[1:])]
                text = escape("".join(c["c"] for c in chars))
                delta = f' DeltaX="{_steps(steps)}"' if steps else ""
                objects.append(
                    f'<ofd:TextObject ID="{next_id()}" Boundary="{_mm(x0)} {_mm(y0)} '
                    f'{_mm(x1 - x0)} {_mm(y1 - y0)}" CTM="{MM_PER_POINT:.6f} 0 0 {MM_PER_POINT:.6f} 0 0" '
                    f'Font="2" Size="{span["size"]:.2f}">'
                    f'<ofd:FillColor Value="0 0 0"/>'
                    f'<ofd:TextCode X="{origin_x - x0:.3f}" Y="{origin_y - y0:.3f}"{delta}>{text}'
                    f'</ofd:TextCode></ofd:TextObject>')
    return objects


def _path_objects(page, next_id) -> list[str]:
    objects = []
    for drawing in page.get_drawings():
        width = drawing.get("width") or 0.5
        for item in drawing["items"]:
            if item[0] == "l":
                points = [item[1], item[2]]
                data = "M {} {} L {} {}"
            elif item[0] == "re":
                rect = item[1]
                points = [rect.tl, rect.tr, rect.br, rect.bl]
                data = "M {} {} L {} {} L {} {} L {} {} C"
            else:
                continue
            left = min(p.x for p in points)
            top = min(p.y for p in points)
            right = max(p.x for p in points)
            bottom = max(p.y for p in points)
            relative = [v for p in points for v in (_mm(p.x - left), _mm(p.y - top))]
            fill = ' Fill="true" Stroke="false"' if drawing.get("fill") and item[0] == "re" else ""
            objects.append(
                f'<ofd:PathObject ID="{next_id()}" Boundary="{_mm(left)} {_mm(top)} '
                f'{_mm(right - left) or 0.01} {_mm(bottom - top) or 0.01}" '
                f'LineWidth="{_mm(width)}"{fill}>'
                f'<ofd:AbbreviatedData>{data.format(*relative)}</ofd:AbbreviatedData></ofd:PathObject>')
    return objects


def pdf_to_ofd(pdf_bytes: bytes, title: str | None = None) -> bytes:
    """An OFD of the PDF's pages: its text runs and ruling lines, no images."""
    source = pymupdf.open(stream=pdf_bytes, filetype="pdf")
    counter = iter(range(10, 10 ** 9))

    def next_id() -> int:
        return next(counter)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        doc_info = f"<ofd:Title>{escape(title)}</ofd:Title>" if title else ""
        archive.writestr("OFD.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {_NS} Version="1.1" DocType="OFD">'
            f'<ofd:DocBody><ofd:DocInfo><ofd:DocID>0</ofd:DocID>{doc_info}'
            f'<ofd:Creator>nianbao samples</ofd:Creator></ofd:DocInfo>'
            f'<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>'))
        archive.writestr("Doc_0/PublicRes.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {_NS} BaseLoc="Res"><ofd:Fonts>'
            f'<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>'))
        pages = []
        width, height = source[0].rect.width, source[0].rect.height
        for number, page in enumerate(source):
            objects = _text_objects(page, next_id) + _path_objects(page, next_id)
            archive.writestr(f"Doc_0/Pages/Page_{number}/Content.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {_NS}><ofd:Content>'
                f'<ofd:Layer ID="{next_id()}" Type="Body">{"".join(objects)}</ofd:Layer>'
                f'</ofd:Content></ofd:Page>'))
            pages.append(f'<ofd:Page ID="{next_id()}" BaseLoc={quoteattr(f"Pages/Page_{number}/Content.xml")}/>')
        archive.writestr("Doc_0/Document.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {_NS}><ofd:CommonData>'
            f'<ofd:MaxUnitID>{next_id()}</ofd:MaxUnitID><ofd:PageArea>'
            f'<ofd:PhysicalBox>0 0 {_mm(width)} {_mm(height)}</ofd:PhysicalBox></ofd:PageArea>'
            f'<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>'
            f'<ofd:Pages>{"".join(pages)}</ofd:Pages></ofd:Document>'))
    return buffer.getvalue()
