"""Bounds on what one parse may cost, whatever the input. Stated in the README."""

# bytes accepted at all
MAX_INPUT_BYTES = 64 * 1024 * 1024
# a DOCX (zip) may unpack to no more than this, and no member may be compressed
# more than MAX_ZIP_RATIO times (zip bombs)
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200
# PDF pages read; reports run to about 10 pages, their tables sit in the first 20
MAX_PDF_PAGES = 60
# scanned pages sent to OCR, and seconds per page
MAX_OCR_PAGES = 20
OCR_SECONDS_PER_PAGE = 60
# pictures in a report page read for its tables (screenshots), and pixels of any one
MAX_IMAGES = 12
MAX_IMAGE_PIXELS = 25_000_000
# LibreOffice conversion of a DOC or WPS file
OFFICE_SECONDS = 120
# cells of one spreadsheet's used range (a report's tables fill about 1,500)
MAX_SHEET_CELLS = 200_000
# HTML and text are decoded up to this many characters
MAX_TEXT_CHARS = 4 * 1024 * 1024
# a figure no report can hold: beyond this, or negative outside the 2019 template's
# 本年增/减 column (where a decrease is printed as a negative number), it is refused
MAX_FIGURE = 10 ** 12
SIGNED_COLUMNS = frozenset({"本年增/减"})
