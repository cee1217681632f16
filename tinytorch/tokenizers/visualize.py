"""Show where a tokenizer cuts text, like the tiktokenizer web app in lecture 9.

Each token gets its own background colour in a terminal (or is separated by "|" in plain
mode). Tokens that end or start inside a UTF-8 character show the lone bytes as \\xNN, which is
how one emoji can cost several tokens. Control characters of the text (ESC, BEL, ...) are shown as
escapes too, never sent to the terminal.
"""
from ..terminal import printable

BACKGROUNDS = (153, 223, 151, 217, 183, 229, 159, 181)  # soft xterm-256 colours, cycled


def token_pieces(tokenizer, text):
    """`[(id, printable text of that token alone)]` for `text`, special tokens included."""
    ids = tokenizer.encode(text, allowed_special="all")
    return [(idx, tokenizer.decode_bytes([idx]).decode("utf-8", errors="backslashreplace")) for idx in ids]


def render(pieces, color=True):
    """The text with token boundaries shown; a newline inside a token is drawn as "↵" + newline, other
    control characters as escapes."""
    out = []
    for k, (_, piece) in enumerate(pieces):
        piece = printable(piece).replace("\n", "↵\n")
        if color:
            out.append(f"\x1b[30;48;5;{BACKGROUNDS[k % len(BACKGROUNDS)]}m{piece}\x1b[0m")
        else:
            out.append(piece)
    return ("" if color else "|").join(out)


def summary(pieces, text):
    """One line: token, character and byte counts and the compression."""
    num_bytes = len(text.encode("utf-8", errors="surrogatepass"))
    ratio = num_bytes / len(pieces) if pieces else 0.0
    return f"{len(pieces)} tokens, {len(text)} characters, {num_bytes} bytes ({ratio:.2f} bytes/token)"
