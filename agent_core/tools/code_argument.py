"""Which argument of a command's argv a program runs as code, if any.

A command tool substitutes each value into an argv element whole, so a value is one
inert argument — unless that element is code a program runs: a shell's ``-c`` script
(``sh -c``, ``bash -ec``, ``fish -c``, also behind ``sudo`` or ``env``), a user's shell
(``su ops -c``, ``runuser --command``), ``python -c``, ``perl -e``, ``node -e``,
``php -r``, ``lua -e``, PowerShell's ``-Command``. There ``; rm -rf /`` would run, so the
configuration refuses a free-text placeholder in it. Programs that hand their arguments
to a shell some other way (``ssh host cmd``) are not seen here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["code_argument"]


@dataclass(frozen=True)
class _RunsCode:
    program: str  # the program's name (a pattern)
    letters: str  # of its code flag, also in a cluster (``-ec``)
    long_flags: tuple[str, ...] = ()
    valued: tuple[str, ...] = ()  # options that take a value of their own (``-o pipefail``)
    # su and runuser take the user first and options after it: an operand ends nothing.
    options_after_operands: bool = False


_RUNS_CODE = (
    _RunsCode(r"(?:ba|da|z|k|mk|a)?sh|busybox|fish", "c", valued=("-o", "+o", "-O", "+O")),
    _RunsCode(r"python[0-9.]*", "c", valued=("-W", "-X")),
    _RunsCode(r"(?:perl|ruby)[0-9.]*", "eE", valued=("-I",)),
    _RunsCode(r"node(?:js)?", "ep", ("--eval", "--print"), ("-r", "--require")),
    _RunsCode(r"php[0-9.]*", "r", valued=("-c", "-d")),
    _RunsCode(r"lua(?:jit)?[0-9.]*", "e", valued=("-l",)),
    _RunsCode(
        r"su|runuser",
        "c",
        ("--command", "--session-command"),
        ("-u", "-g", "-G", "-s"),
        options_after_operands=True,
    ),
)
# PowerShell reads its options in any case, by any unambiguous prefix, after - or /.
_POWERSHELL = re.compile(r"pwsh|powershell(?:\.exe)?", re.IGNORECASE)
_POWERSHELL_CODE = re.compile(
    r"[-/](?:c|co|com|comm|comma|comman|command|commandwithargs|cwa|e|ec|en|enc|encodedcommand)",
    re.IGNORECASE,
)


def code_argument(argv: tuple[str, ...]) -> tuple[int, str]:
    """The index of the argv element a program runs as code (0 if none), and how."""
    for start, element in enumerate(argv[:-1]):
        name = element.rsplit("/", 1)[-1]
        if _POWERSHELL.fullmatch(name):
            for index in range(start + 1, len(argv) - 1):
                if _POWERSHELL_CODE.fullmatch(argv[index]):
                    return index + 1, f"{name} {argv[index]}"
            continue
        for runs in _RUNS_CODE:
            if not re.fullmatch(runs.program, name):
                continue
            flag = re.compile(rf"-[A-Za-z]*[{runs.letters}][A-Za-z]*")
            index = start + 1
            while index < len(argv) - 1:
                option = argv[index]
                if flag.fullmatch(option) or option in runs.long_flags:
                    return index + 1, f"{name} {option}"
                operand = not option.startswith(("-", "+"))
                if option == "--" or (operand and not runs.options_after_operands):
                    break  # a script file: what follows are its own arguments
                index += 2 if option in runs.valued else 1
    return 0, ""
