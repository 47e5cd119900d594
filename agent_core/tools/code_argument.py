"""Which argument of a command's argv a program runs as code, if any.

A command tool substitutes each value into an argv element whole, so a value is one
inert argument — unless that element is code a program runs: a shell's ``-c`` script
(``sh -c``, ``bash -ec``, ``fish -c``, also behind ``sudo`` or ``env``), a user's shell
(``su ops -c``, ``runuser --command``), ``python -c``, ``perl -e``, ``node -e``,
``php -r``, ``lua -e``, PowerShell's ``-Command``, sed's script and awk's program (after
``-e``/``--expression``/``--source``, or as the first operand). There ``; rm -rf /`` (or
sed's ``e`` command, awk's ``system()``) would run, so the configuration refuses a
free-text placeholder in it. Programs that hand their arguments
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
    # sed and awk: without a code option, the first operand is the code, unless one of
    # ``script_files`` named a file that holds it.
    code_operand: bool = False
    script_files: tuple[str, ...] = ()


_RUNS_CODE = (
    _RunsCode(r"(?:ba|da|z|k|mk|a)?sh|busybox|fish", "c", valued=("-o", "+o", "-O", "+O")),
    _RunsCode(r"python[0-9.]*", "c", valued=("-W", "-X")),
    _RunsCode(r"(?:perl|ruby)[0-9.]*", "eE", valued=("-I",)),
    _RunsCode(r"node(?:js)?", "ep", ("--eval", "--print"), ("-r", "--require")),
    _RunsCode(r"php[0-9.]*", "r", valued=("-c", "-d")),
    _RunsCode(r"lua(?:jit)?[0-9.]*", "e", valued=("-l",)),
    # sed's script runs a shell with its `e` command and writes files with `w`; awk's
    # program has system() and pipes.
    _RunsCode(
        r"g?sed",
        "e",
        ("--expression",),
        ("-l", "--line-length"),
        code_operand=True,
        script_files=("-f", "--file"),
    ),
    _RunsCode(
        r"[gmn]?awk",
        "e",
        ("--source",),
        ("-F", "-v", "--field-separator", "--assign", "-i", "--include", "-l", "--load"),
        code_operand=True,
        script_files=("-f", "--file", "-E", "--exec"),
    ),
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
            found = _code_of(runs, name, argv, start + 1)
            if found[0]:
                return found
    return 0, ""


def _code_of(runs: _RunsCode, name: str, argv: tuple[str, ...], index: int) -> tuple[int, str]:
    """Where ``name``'s code is in ``argv``, its options read from ``index``; (0, "")."""
    flag = re.compile(rf"-[A-Za-z]*[{runs.letters}][A-Za-z]*")
    from_file = False
    while index < len(argv):
        option = argv[index]
        if (flag.fullmatch(option) or option in runs.long_flags) and index < len(argv) - 1:
            return index + 1, f"{name} {option}"
        if option in runs.script_files:
            from_file = True
        operand = not option.startswith(("-", "+"))
        if option == "--" and runs.code_operand and not from_file and index < len(argv) - 1:
            return index + 1, f"{name}'s script"
        if operand and runs.code_operand and not from_file:
            return index, f"{name}'s script"
        if option == "--" or (operand and not runs.options_after_operands):
            break  # a script file: what follows are its own arguments
        index += 2 if option in (*runs.valued, *runs.script_files) else 1
    return 0, ""
