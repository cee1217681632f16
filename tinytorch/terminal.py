"""Text from users (sampled text, prompts, file names, tokenizer input) made safe to print.

A terminal obeys control characters: ESC starts colour and cursor sequences, BEL rings, CR and
backspace overwrite what was shown, the bidi overrides reorder it. `printable` shows each such
character as an escape instead (`\\x1b`, `\\u202e`), so what is printed is what the text holds.
"""
import re

# Unicode's control characters (C0, DEL, C1), lone surrogates, and the bidi controls
_OTHERS = "\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_ALL = re.compile(f"[\x00-\x1f{_OTHERS}]")
_ALL_BUT_LAYOUT = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # keeps \t (0x09) and \n (0x0a)


def printable(text, layout=True):
    """`text` with its control characters escaped; with `layout`, newlines and tabs stay as they are."""
    return (_ALL_BUT_LAYOUT if layout else _ALL).sub(_escape, text)


def _escape(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
