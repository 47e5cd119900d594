"""Which argument of a command's argv a program runs as code, if any.

A command tool substitutes each value into an argv element whole, so a value is one
inert argument — unless that element is code a program runs: a shell's ``-c`` script
(``sh -c``, ``bash -ec``, ``fish -c``, also behind ``sudo`` or ``env``), a user's shell
(``su ops -c``, ``runuser --command``), ``python -c``, ``perl -e``, ``node -e``,
``php -r``, ``lua -e``, PowerShell's ``-Command``, ``flock``'s and ``script``'s ``-c``,
``env -S`` (which splits its string into a command line), sed's script and awk's program (after
``-e``/``--expression``/``--source``, or as the first operand). Each such element is
found, not only the first (``sed -e … -e …``). There ``; rm -rf /`` (or
sed's ``e`` command, awk's ``system()``) would run, so the configuration refuses a
free-text placeholder in it. Options are read as getopt reads them (``--expression=…``,
``-es/x/y/``, ``--expr``, ``-ne``). Programs that hand their arguments
to a shell some other way (``ssh host cmd``) are not seen here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["code_arguments"]


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
    # A shell's -c is a flag: the script is its first operand, after all its options
    # (``-ce script``, ``-c -e script``, ``-co pipefail script``, ``-c -- script``).
    code_is_flag: bool = False
    # Python's -c ends its options: what follows is the script's argv, never code again.
    # Others take their code option again (``sed -e … -e …``): each is code.
    code_ends_options: bool = False
    # Whole elements whose code is the next one, no cluster (node's ``-pe``).
    code_options: tuple[str, ...] = ()
    # gawk reads ``-W name[=value]`` as ``--name[=value]`` (``-W source=…``).
    long_by_w: bool = False
    # node reads `--name value` for most of its options (--input-type module, --env-file F):
    # a word after a long option it does not list is taken for its value, not a script.
    long_values: bool = False
    # flock FILE -c CODE: after its first operand only these, exactly, take code; any
    # other element there is the program it runs (exec), with options of its own.
    code_after_operand: tuple[str, ...] = ()


# gawk's -W takes a long option's name (-W source=…): read as that option.
_AWK_SHORT = ("-F", "-v", "-i", "-l", "-W", "-Z")
_AWK_VALUED = (*_AWK_SHORT, "--field-separator", "--assign", "--include", "--load", "--locale")

_SCRIPT_SHORT = ("-E", "-I", "-O", "-B", "-T", "-m", "-o")
_SCRIPT_VALUED = (*_SCRIPT_SHORT, "--echo", "--log-in", "--log-out", "--log-io", "--log-timing")

_RUNS_CODE = (
    _RunsCode(  # also csh's, a restricted bash (rbash), the BSD and Debian korn shells
        r"(?:r?ba|da|z|k|mk|lk|pdk|ok|ya|po|a|c|tc)?sh|busybox",
        "c",
        valued=("-o", "+o", "-O", "+O", "--rcfile", "--init-file"),
        code_is_flag=True,
    ),
    _RunsCode(r"fish", "cC", ("--command", "--init-command")),
    _RunsCode(r"(?:python|pypy)[0-9.]*", "c", valued=("-W", "-X"), code_ends_options=True),
    _RunsCode(r"perl[0-9.]*", "eE", valued=("-I",)),
    _RunsCode(r"ruby[0-9.]*", "e", valued=("-I", "-r", "-C", "-E")),
    # node takes no cluster, but has `-pe`; of several -e the last runs.
    _RunsCode(
        r"node(?:js)?",
        "",
        ("--eval", "--print"),
        ("-r", "--require", "-C"),
        code_options=("-e", "-p", "-pe"),
        long_values=True,
    ),
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
        _AWK_VALUED,
        code_operand=True,
        script_files=("-f", "--file", "-E", "--exec"),
        attached="dDLop",
        long_by_w=True,
    ),
    _RunsCode(
        r"su|runuser",
        "c",
        ("--command", "--session-command"),
        ("-u", "-g", "-G", "-s"),
        options_after_operands=True,
    ),
    # flock and script hand their -c to a shell; env -S splits its string into a command
    # line (a value's spaces make arguments, its `${VAR}` is expanded). flock's options
    # end at the file: `flock FILE kubectl logs POD -c CONTAINER` is kubectl's -c.
    _RunsCode(
        r"flock",
        "c",
        ("--command",),
        ("-w", "--wait", "--timeout", "-E", "--conflict-exit-code"),
        code_after_operand=("-c", "--command"),
    ),
    _RunsCode(
        r"script",
        "c",
        ("--command",),
        (*_SCRIPT_VALUED, "--logging-format", "--output-limit"),
        options_after_operands=True,
        attached="t",
    ),
    # FreeBSD's env also takes -P (a search path), -L and -U (a user) before its -S.
    _RunsCode(
        r"env", "S", ("--split-string",), ("-u", "--unset", "-C", "--chdir", "-P", "-L", "-U")
    ),
)

# PowerShell reads its options in any case, by any unambiguous prefix, after - or /.
_POWERSHELL = re.compile(r"pwsh|powershell(?:\.exe)?", re.IGNORECASE)
_POWERSHELL_CODE = re.compile(
    r"[-/](?:c|co|com|comm|comma|comman|command|commandwithargs|cwa|e|ec|en|enc|encodedcommand)",
    re.IGNORECASE,
)


def code_arguments(argv: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """The argv elements a program runs as code: each one's index, and how."""
    found: dict[int, str] = {}
    for start, element in enumerate(argv[:-1]):
        name = element.rsplit("/", 1)[-1]
        if _POWERSHELL.fullmatch(name):
            for index in range(start + 1, len(argv) - 1):
                if _POWERSHELL_CODE.fullmatch(argv[index]):
                    found.setdefault(index + 1, f"{name} {argv[index]}")
                    break
            continue
        for runs in _RUNS_CODE:
            if re.fullmatch(runs.program, name):
                for index, how in _code_of(runs, name, argv, start + 1):
                    found.setdefault(index, how)
    return tuple(sorted(found.items()))


def _code_of(
    runs: _RunsCode, name: str, argv: tuple[str, ...], index: int
) -> list[tuple[int, str]]:
    """Where ``name``'s code is in ``argv``, its options read from ``index``."""
    found: list[tuple[int, str]] = []
    from_file = False
    code_flag = ""  # a shell's -c, as written: its code is its first operand
    while index < len(argv):
        option = argv[index]
        where, width, script_file = _option(runs, option)
        via_w = runs.long_by_w and option.startswith("-W")
        named = ""
        if via_w:  # -W name[=value], or -Wname[=value]: --name[=value]
            named = option[2:] or (argv[index + 1] if index + 1 < len(argv) else "")
            where, width, script_file = _option(runs, f"--{named}")
            width += 0 if option[2:] else 1
        shown = f"-W {named}".partition("=")[0] if via_w else option
        unlisted = not where and width == 1 and option.startswith("--") and len(option) > 2
        if runs.long_values and unlisted and "=" not in option and index + 1 < len(argv):
            width += 0 if argv[index + 1].startswith("-") else 1  # its value, not a script
        if where == "here":
            found.append((index + width - 1, f"{name} {_label(runs, shown)}"))
        elif where == "next" and index + width < len(argv):
            found.append((index + width, f"{name} {shown}"))
            width += 1
        elif where == "flag":
            code_flag = code_flag or option
        if found and runs.code_ends_options:
            return found
        from_file = from_file or script_file or bool(found)
        operand = not option.startswith(("-", "+"))
        code_operand = (runs.code_operand and not from_file) or bool(code_flag)
        how = f"{name} {code_flag}" if code_flag else f"{name}'s script"
        if option == "--" and code_operand and index < len(argv) - 1:
            return [*found, (index + 1, how)]
        if operand and code_operand:
            return [*found, (index, how)]
        if runs.code_after_operand and (operand or option == "--"):
            at = index + (option == "--")  # flock's file; then its -c, or a program
            if at + 2 < len(argv) and argv[at + 1] in runs.code_after_operand:
                found.append((at + 2, f"{name} {argv[at + 1]}"))
            break
        if option == "--" or (operand and not runs.options_after_operands):
            break  # a script file: what follows are its own arguments
        index += width
    return found


def _label(runs: _RunsCode, option: str) -> str:
    """The option of ``option`` that holds its code (``--expression``, ``-e``)."""
    if option.startswith(("--", "-W ")):
        return option.partition("=")[0]
    return option[: min(option.find(letter) % len(option) for letter in runs.letters) + 1]


def _option(runs: _RunsCode, option: str) -> tuple[str, int, bool]:
    """What ``option`` is to ``runs``: where its code is ("here" in this element, "next",
    "flag" for a shell's -c, or ""), how many elements it takes, and whether it names a
    script file. Read as getopt reads it: a long option by any prefix and with
    ``=value``, a short one's value attached (``-es/x/y/``) or in a cluster (``-ne``,
    ``-euo pipefail``)."""
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
    if option in runs.code_options:
        return "next", 1, False
    if option in runs.valued or option in runs.script_files:  # also ``+o``
        return "", 2, option in runs.script_files
    if not option.startswith("-") or option == "-":
        return "", 1, False
    if runs.code_is_flag and option[1:].isalpha():  # a cluster: each valued letter takes one
        takes = sum(f"-{letter}" in runs.valued for letter in option[1:])
        return ("flag" if set(option[1:]) & set(runs.letters) else ""), 1 + takes, False
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
