r"""Split text exactly as tiktoken does although the `regex` package knows a newer Unicode.

tiktoken 0.14 matches its patterns with Rust's regex engine, whose tables are Unicode 16.0;
the `regex` package (2025 and later) has Unicode 17.0. The letters and numbers that Unicode 17.0
added are \p{L} / \p{N} to `regex` but unassigned (so "other", like punctuation) to tiktoken,
and a chunk boundary moves next to them: "\U00012550's" is ["\U00012550", "'s"] here but
["\U00012550'", "s"] in tiktoken. Comparing the two on every code point found exactly the
17,480 code points below, and no difference the other way.

`as_unicode_16(pattern)` rewrites \p{L} and \p{N} to leave them out (regex's V1 set
difference). It splits ~2x slower, so GPT2Tokenizer / GPT4Tokenizer use it only for texts that
contain such a character. With a `regex` release that still has Unicode 16.0 tables, the
subtraction removes nothing and changes nothing.
"""
import regex

UNICODE_17_LETTERS_AND_NUMBERS = (  # inclusive code point ranges
    (0x00558, 0x00558), (0x0058B, 0x0058C), (0x0088F, 0x0088F), (0x00C5C, 0x00C5C), (0x00CDC, 0x00CDC),
    (0x0208F, 0x0208F), (0x0209D, 0x0209F), (0x0A7CE, 0x0A7CF), (0x0A7D2, 0x0A7D2), (0x0A7D4, 0x0A7D4),
    (0x0A7DD, 0x0A7DD), (0x0A7E2, 0x0A7E2), (0x0A7F1, 0x0A7F1), (0x0AB6C, 0x0AB6D), (0x107BB, 0x107BF),
    (0x10940, 0x10959), (0x10EC5, 0x10EC7), (0x10ED9, 0x10EEE), (0x11B0A, 0x11B0A), (0x11DB0, 0x11DDB),
    (0x11DE0, 0x11DE9), (0x11DF1, 0x11DF1), (0x1246F, 0x1246F), (0x12475, 0x1247F), (0x12550, 0x12686),
    (0x16EA0, 0x16EB8), (0x16EBB, 0x16ED3), (0x16FF2, 0x16FF6), (0x187F8, 0x187FF), (0x18CD6, 0x18CDA),
    (0x18D09, 0x18D20), (0x18D80, 0x18DF2), (0x18E00, 0x19191), (0x191A0, 0x191D2), (0x1B123, 0x1B128),
    (0x1B168, 0x1B168), (0x1D6A6, 0x1D6A6), (0x1DF1F, 0x1DF24), (0x1DF2B, 0x1DF81), (0x1DF90, 0x1DF96),
    (0x1DFCD, 0x1DFFF), (0x1E6C0, 0x1E6DE), (0x1E6E0, 0x1E6E2), (0x1E6E4, 0x1E6E5), (0x1E6E7, 0x1E6ED),
    (0x1E6F0, 0x1E6F4), (0x1E6FE, 0x1E6FF), (0x2B73A, 0x2B73F), (0x2B81E, 0x2B81E), (0x2CEA2, 0x2CEAD),
    (0x323B0, 0x33479), (0x3D000, 0x3FC3F),
)
_CLASS = "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in UNICODE_17_LETTERS_AND_NUMBERS)
UNICODE_17_CHARACTER = regex.compile(f"[{_CLASS}]")


def as_unicode_16(pattern):
    r"""`pattern` with \p{L} and \p{N} restricted to the letters and numbers of Unicode 16.0."""
    for prop in (r"\p{L}", r"\p{N}"):
        pattern = pattern.replace(prop, f"[{prop}--[{_CLASS}]]")
    return "(?V1)" + pattern
