"""tinytorch.terminal.printable: user text printed with its control characters escaped."""
import pytest

from tinytorch.terminal import printable


@pytest.mark.parametrize("text, shown", [
    ("\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07"),       # clear screen, set the window title, bell
    ("done\rfake", "done\\x0dfake"),                                # carriage return overwrites the line
    ("abc\x08\x08x", "abc\\x08\\x08x"),                             # backspaces
    ("\x7f\x85\x9b", "\\x7f\\x85\\x9b"),                             # DEL and C1 controls (0x9b: a one-byte CSI)
    ("user\u202egnp.exe", "user\\u202egnp.exe"),                    # a right-to-left override
    ("bad\udcffbyte", "bad\\udcffbyte"),                            # a lone surrogate (surrogateescape)
    ("ROMEO:\n\tthy name é 😉 中文", "ROMEO:\n\tthy name é 😉 中文"),  # newlines, tabs and letters stay
])
def test_control_characters_are_escaped_and_layout_kept(text, shown):
    assert printable(text) == shown


def test_without_layout_newlines_and_tabs_are_escaped_too():
    assert printable("a\nb\tc", layout=False) == "a\\x0ab\\x09c"
