"""`together-eval-emulator serve` (also `python -m together_eval_emulator serve`). Its options are
generated from `ServerSettings`, which also reads the environment and the config file."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import typing
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from .._version import __version__
from ..engine._config import ENV_PREFIX, SettingsEnvironment, env_var
from ..engine._first_error import first_error
from ..stores._factory import parse_store_url
from ._asgi import is_loopback
from ._configfile import ConfigFileError
from ._settings import OPTION_FIELDS, ServerSettings, option_of

SWITCH_INTERVAL_SECONDS = 0.0005  # Python's default is 0.005


def _metavar(name: str, field: FieldInfo) -> str:
    annotation = field.annotation
    if annotation is bool:
        return "on|off"
    if typing.get_origin(annotation) is typing.Literal:
        return "|".join(str(choice) for choice in typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return "A,B,..."
    return name.upper()


def _default_text(field: FieldInfo) -> str:
    default = field.get_default(call_default_factory=True, validated_data={})
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, list):
        return f"a list of {len(default)}" if default else "none"
    return "unset" if default is None else str(default)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (exit status 2), not the whole usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _fail(message: str) -> int:
    """Print a one-line error; the exit status of a bad option, variable or config file."""
    print(f"together-eval-emulator: {' '.join(message.split())}", file=sys.stderr)
    return 2


def parser() -> argparse.ArgumentParser:
    root = _Parser(
        prog="together-eval-emulator", description="A local, deterministic emulator of Together AI's evaluation API."
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="start the emulator server",
        description="Start the emulator server. Every option also reads an environment variable, named in its "
        f"help ({ENV_PREFIX}...); options win over variables, which win over the config file.",
    )
    for name in OPTION_FIELDS:
        field = ServerSettings.model_fields[name]
        text = (field.description or name).rstrip(".")
        bare: dict[str, Any] = {"nargs": "?", "const": "on"} if field.annotation is bool else {}  # a bare flag: on
        serve.add_argument(
            option_of(name),
            dest=name,
            default=None,
            metavar=_metavar(name, field),
            help=f"{text} (default {_default_text(field)}; env {env_var(name)})",
            **bare,
        )
    return root


def _invalid(exc: ValidationError, given: dict[str, object]) -> str:
    """The one-line message of a bad setting, naming where it came from: the strongest source that
    gave it (an option, then a variable, else the config file)."""
    first = first_error(exc)
    name = first.field.split(".")[0]
    if name in given:
        return f"invalid setting {first.field}={first.value!r} ({option_of(name)}): {first.message}"
    environment = SettingsEnvironment(ServerSettings)()
    if name in environment:
        return f"invalid setting {first.field}={first.value!r} ({env_var(name)}): {first.message}"
    path = given.get("config") or environment.get("config")
    return f"invalid setting {first.field} (config file {path}): {first.message}"


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    given = {name: value for name in OPTION_FIELDS if (value := getattr(args, name)) is not None}
    try:
        settings = ServerSettings(**given)
    except ConfigFileError as exc:
        return _fail(str(exc))
    except ValidationError as exc:
        return _fail(_invalid(exc, given))
    if not is_loopback(settings.host) and not settings.admin_token:
        return _fail(
            f"refusing to bind {settings.host}, which is not a loopback address, without an "
            f"admin token: anyone who can reach it could steer the emulator through /_emulator/. Pass "
            f"--admin-token TOKEN (or set {env_var('admin_token')}), or bind 127.0.0.1."
        )
    if settings.workers > 1:
        from ._workers import supported

        problem = None
        if not parse_store_url(settings.store).shared:
            problem = (
                f"--workers {settings.workers} needs a store the workers share, and a memory store lives in one "
                f"process: pass --store sqlite:PATH or --store redis://HOST:PORT/DB"
            )
        elif not supported():
            problem = "--workers needs os.fork, which this platform does not have: run one server per process"
        if problem:
            return _fail(problem)
    return _serve(settings)


def _serve(settings: ServerSettings) -> int:
    from ..http._core import Emulator
    from ..stores._errors import StoreError
    from ..stores._factory import open_store
    from ._server import EmulatorServer, bind

    host, port = settings.host, settings.port
    try:  # opened here even for workers: a store that cannot be used is reported once, before any fork
        emulator = Emulator(settings.emulator_config(), store=open_store(settings.store, reset=settings.reset_store))
    except StoreError as exc:
        return _fail(str(exc))
    try:
        sock = bind(host, port)
    except socket.gaierror as exc:  # a host name that names no address: a bad option
        emulator.store.close()
        return _fail(f"cannot listen on {host}:{port}: {exc.strerror} (--host)")
    except OSError as exc:
        emulator.store.close()
        print(f"together-eval-emulator: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    # The server's event loop competes for the GIL with the threads answering long requests; a
    # shorter switch interval lets it take the GIL back sooner after each socket call (forked
    # workers inherit it).
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)

    def ready(url: str) -> None:
        print(f"listening on {url}", flush=True)

    if settings.workers > 1:
        from ._workers import serve_workers

        emulator.store.close()  # each worker opens its own
        return serve_workers(settings, sock, ready)
    # SIGTERM stops the server as Ctrl-C does, and the exit status is 0 for both: uvicorn handles
    # the signal, shuts down, then raises it again under the handler in force before it started.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        EmulatorServer(emulator, log_level=settings.log_level, sock=sock).serve(on_ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.store.close()
    return 0
