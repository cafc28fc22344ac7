"""The `together-eval-emulator` program (also `python -m together_eval_emulator`): the command line of
`_cli.py`, with Ctrl-C and SIGTERM stopping it cleanly (exit status 0) from its very start. The
handlers are in place before the command line's modules are imported, which takes a few tenths of a
second; while the server runs, uvicorn handles the signals itself."""

from __future__ import annotations

import signal


def main() -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: a KeyboardInterrupt
    try:
        from ._cli import main as command_line

        return command_line()
    except KeyboardInterrupt:  # before the server ran, or while it started
        return 0
