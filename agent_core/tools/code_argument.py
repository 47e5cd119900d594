"""Which argument of a command's argv a program runs as code, if any.

A command tool substitutes each value into an argv element whole, so a value is one
inert argument — unless that element is code a program runs: a shell's ``-c`` script
(``sh -c``, ``bash -ec``, ``fish -c``, also behind ``sudo`` or ``env``), a user's shell
(``su ops -c``, ``runuser --command``), ``python -c``, ``perl -e``, ``node -e``,
``php -r``, ``lua -e``, PowerShell's ``-Command``, sed's script and awk's program (after
``-e``/``--expression``/``--source``, or as the first operand). There ``; rm -rf /`` (or
sed's ``e`` command, awk's ``system()``) would run, so the configuration refuses a
free-text placeholder in it. Options are read as getopt reads them (``--expression=…``,
``-es/x/y/``, ``--expr``, ``-ne``). Programs that hand their arguments
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
    # Letters whose value is optional and only ever attached (sed's ``-i.bak``).
    attached: str = ""
    # A shell's -c is a flag (the script is its first operand): ``-ce script``.
    code_is_flag: bool = False


_RUNS_CODE = (
    _RunsCode(
        r"(?:ba|da|z|k|mk|a)?sh|busybox|fish",
        "c",
        valued=("-o", "+o", "-O", "+O"),
        code_is_flag=True,
    ),
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
        attached="i",
    ),
    _RunsCode(
        r"[gmn]?awk",
        "e",
        ("--source",),
        ("-F", "-v", "--field-separator", "--assign", "-i", "--include", "-l", "--load", "-W"),
        code_operand=True,
        script_files=("-f", "--file", "-E", "--exec"),
        attached="dDLop",
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
    from_file = False
    while index < len(argv):
        option = argv[index]
        where, width, script_file = _option(runs, option)
        if where == "here":
            return index, f"{name} {_label(runs, option)}"
        if where == "next" and index < len(argv) - 1:
            return index + 1, f"{name} {option}"
        from_file = from_file or script_file
        operand = not option.startswith(("-", "+"))
        if option == "--" and runs.code_operand and not from_file and index < len(argv) - 1:
            return index + 1, f"{name}'s script"
        if operand and runs.code_operand and not from_file:
            return index, f"{name}'s script"
        if option == "--" or (operand and not runs.options_after_operands):
            break  # a script file: what follows are its own arguments
        index += width
    return 0, ""


def _label(runs: _RunsCode, option: str) -> str:
    """The option of ``option`` that holds its code (``--expression``, ``-e``)."""
    if option.startswith("--"):
        return option.partition("=")[0]
    return option[: min(option.find(letter) % len(option) for letter in runs.letters) + 1]


def _option(runs: _RunsCode, option: str) -> tuple[str, int, bool]:
    """What ``option`` is to ``runs``: where its code is ("here" in this element, "next",
    or ""), how many elements it takes, and whether it names a script file. Read as
    getopt reads it: a long option by any prefix and with ``=value``, a short one's
    value attached (``-es/x/y/``) or in a cluster (``-ne``, ``-euo pipefail``)."""
    if option.startswith("--") and len(option) > 2:
        given, equals, _ = option.partition("=")

        def named(longs: tuple[str, ...]) -> bool:
            return any(o.startswith("--") and o.startswith(given) for o in longs)

        if named(runs.long_flags):
            return ("here" if equals else "next"), 1, False
        files = named(runs.script_files)
        if files or named(runs.valued):
            return "", (1 if equals else 2), files
        return "", 1, False
    if option in runs.valued or option in runs.script_files:  # also ``+o``
        return "", 2, option in runs.script_files
    if not option.startswith("-") or option == "-":
        return "", 1, False
    if runs.code_is_flag and re.fullmatch(rf"-[A-Za-z]*[{runs.letters}][A-Za-z]*", option):
        return "next", 1, False
    for at, letter in enumerate(option[1:], start=2):
        rest = option[at:]
        if letter in runs.letters:
            return ("here" if rest else "next"), 1, False
        if letter in runs.attached:
            return "", 1, False
        if f"-{letter}" in (*runs.valued, *runs.script_files):
            return "", (1 if rest else 2), f"-{letter}" in runs.script_files
        if not letter.isalpha():
            return "", 1, False
    return "", 1, False
