"""Warnings that point at the user's line: the first frame of the stack outside tinytorch.

torch tunes each warning's stacklevel to its own call depth. Here the depth varies (an op may be
reached through the autocast wrapper, a module's forward or a loss helper), so a fixed stacklevel
pointed at tinytorch's own files; `warn` walks out of the package instead, as Python 3.12's
warnings.warn(skip_file_prefixes=...) would.
"""
import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=UserWarning):
    """warnings.warn(message, category), attributed to the innermost caller outside tinytorch."""
    frame = sys._getframe(1)
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    module_globals = frame.f_globals
    warnings.warn_explicit(message, category, frame.f_code.co_filename, frame.f_lineno,
                           module=module_globals.get("__name__"),
                           registry=module_globals.setdefault("__warningregistry__", {}),
                           module_globals=module_globals)
