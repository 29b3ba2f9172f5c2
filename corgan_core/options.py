"""Build command-line options and form fields from the config dataclasses (one source of defaults)."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any


def fields_of(cls) -> list[dict[str, Any]]:
    """One dict per field: name, type, default, help, choices (for the CLI and dashboard forms)."""
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append({"name": f.name, "type": type(default), "default": default,
                    "help": f.metadata.get("help", ""), "choices": f.metadata.get("choices")})
    return out


def add_dataclass_args(parser: argparse.ArgumentParser, cls, exclude: tuple[str, ...] = (),
                       title: str | None = None) -> None:
    """Add ``--field-name`` options; unset options are absent from the parsed namespace."""
    group = parser.add_argument_group(title or cls.__name__)
    for f in fields_of(cls):
        if f["name"] in exclude:
            continue
        flag = "--" + f["name"].replace("_", "-")
        help_text = f"{f['help']} (default: {f['default']})"
        if f["type"] is bool:
            group.add_argument(flag, dest=f["name"], action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(flag, dest=f["name"], type=f["type"], choices=f["choices"],
                               default=argparse.SUPPRESS, help=help_text, metavar=None if f["choices"] else f["name"].upper())


def picked(args: argparse.Namespace, cls) -> dict:
    """The fields of ``cls`` the user actually set on the command line."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names}
