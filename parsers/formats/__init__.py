"""One reader per format: bytes in, `rows.Extracted` out."""
