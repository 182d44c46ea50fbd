"""The bundled demo portal: a TRS-style static site carrying the sample reports, built
from the committed corpus (`tests/corpus/`) and served on 127.0.0.1. The crawler walks
it as it would walk any portal: it does not know it is the demo."""
