"""`together-eval-emulator serve` (also `python -m emulator serve`)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from pydantic import ValidationError

from .._version import __version__
from ..engine._config import ENV_PREFIX, EmulatorConfig
from ._configfile import ConfigFileError, load_config_file

# CLI option -> config field; every option also reads TOGETHER_EMULATOR_<FIELD>.
OPTIONS = {
    "--seed": "seed",
    "--clock": "clock",
    "--time-scale": "time_scale",
    "--start-time": "start_time",
    "--pending-seconds": "pending_seconds",
    "--queued-seconds": "queued_seconds",
    "--running-seconds": "running_seconds",
    "--running-seconds-per-row": "running_seconds_per_row",
    "--failure-delay-seconds": "failure_delay_seconds",
    "--journal-limit": "journal_limit",
    "--progression": "progression",
    "--polls-per-phase": "polls_per_phase",
    "--auth": "auth",
    "--admin-token": "admin_token",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="together-eval-emulator", description="A local, deterministic emulator of Together AI's evaluation API."
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="start the emulator server",
        description="Start the emulator server. Every option also reads an "
        f"environment variable, named in its help ({ENV_PREFIX}...).",
    )
    serve.add_argument(
        "--host",
        default=os.environ.get(ENV_PREFIX + "HOST", "127.0.0.1"),
        help=f"interface to bind (default 127.0.0.1; env {ENV_PREFIX}HOST)",
    )
    serve.add_argument(
        "--config",
        default=os.environ.get(ENV_PREFIX + "CONFIG"),
        help="TOML or JSON file of settings, scenarios, faults, tenants and files loaded at start "
        f"(env {ENV_PREFIX}CONFIG); environment variables and options override its settings",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get(ENV_PREFIX + "PORT", "8000")),
        help=f"port, 0 picks a free one (default 8000; env {ENV_PREFIX}PORT)",
    )
    for option, name in OPTIONS.items():
        field = EmulatorConfig.model_fields[name]
        serve.add_argument(
            option,
            dest=name,
            default=None,
            help=f"{field.description} (default {field.default}; env {ENV_PREFIX}{name.upper()})",
        )
    serve.add_argument(
        "--column-use-rule",
        dest="column_use_rule",
        default=None,
        choices=["on", "off"],
        help=f"fail jobs with unreferenced dataset columns (default on; env {ENV_PREFIX}COLUMN_USE_RULE)",
    )
    serve.add_argument(
        "--strict-models",
        dest="strict_models",
        default=None,
        choices=["on", "off"],
        help=f"fail serverless models not on the allowlist (default off; env {ENV_PREFIX}STRICT_MODELS)",
    )
    serve.add_argument(
        "--log-level",
        default=os.environ.get(ENV_PREFIX + "LOG_LEVEL", "warning"),
        help=f"uvicorn log level (default warning; env {ENV_PREFIX}LOG_LEVEL)",
    )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides = {name: getattr(args, name) for name in [*OPTIONS.values(), "column_use_rule", "strict_models"]}
    for flag in ("column_use_rule", "strict_models"):
        if overrides[flag] is not None:
            overrides[flag] = overrides[flag] == "on"
    try:
        file = load_config_file(args.config) if args.config else None
        config = EmulatorConfig.from_env(file=file, **overrides)
    except ConfigFileError as exc:
        print(f"together-eval-emulator: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        origin = f" (config file {args.config})" if args.config else ""
        print(f"together-eval-emulator: invalid setting {where}{origin}: {first['msg']}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not config.admin_token:
        print(
            f"together-eval-emulator: refusing to bind {args.host}, which is not a loopback address, without an "
            f"admin token: anyone who can reach it could steer the emulator through /_emulator/. Pass "
            f"--admin-token TOKEN (or set {ENV_PREFIX}ADMIN_TOKEN), or bind 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    from ..http._core import Emulator
    from ._server import EmulatorServer

    try:
        server = EmulatorServer(Emulator(config), host=args.host, port=args.port, log_level=args.log_level)
    except OSError as exc:
        print(f"together-eval-emulator: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        server.serve(on_ready=lambda url: print(f"listening on {url}", flush=True))
    except KeyboardInterrupt:
        pass
    return 0
