"""Which argument of a command's argv a program runs as code, if any.

A command tool substitutes each value into an argv element whole, so a value is one
inert argument — unless that element is code a program runs: a shell's ``-c`` script
(``sh -c``, ``bash -ec``, also behind ``sudo`` or ``env``), ``python -c``, ``perl -e``,
``node -e``. There ``; rm -rf /`` would run, so the configuration refuses a free-text
placeholder in it. Programs that hand their arguments to a shell some other way
(``ssh host cmd``) are not seen here.
"""

from __future__ import annotations

import re

__all__ = ["code_argument"]

# Each: the program's name, the letters of its code flag (also in a cluster: ``-ec``),
# its long code flags, and the options that take a value of their own (``-o pipefail``).
_RUNS_CODE = (
    (r"(?:ba|da|z|k|mk|a)?sh|busybox", "c", (), ("-o", "+o", "-O", "+O")),
    (r"python[0-9.]*", "c", (), ("-W", "-X")),
    (r"(?:perl|ruby)[0-9.]*", "eE", (), ("-I",)),
    (r"node(?:js)?", "ep", ("--eval", "--print"), ("-r", "--require")),
)


def code_argument(argv: tuple[str, ...]) -> tuple[int, str]:
    """The index of the argv element a program runs as code (0 if none), and how."""
    for start, element in enumerate(argv[:-1]):
        name = element.rsplit("/", 1)[-1]
        for program, letters, long_flags, valued in _RUNS_CODE:
            if not re.fullmatch(program, name):
                continue
            flag = re.compile(rf"-[A-Za-z]*[{letters}][A-Za-z]*")
            index = start + 1
            while index < len(argv) - 1:
                option = argv[index]
                if flag.fullmatch(option) or option in long_flags:
                    return index + 1, f"{name} {option}"
                if not option.startswith(("-", "+")):
                    break  # a script file: what follows are its own arguments
                index += 2 if option in valued else 1
    return 0, ""
