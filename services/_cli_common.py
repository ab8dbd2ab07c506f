"""What every `collabgap` command module shares: the consoles and the options of a service's address.

Light on purpose, as the command modules are: `collabgap --help` imports it.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console(soft_wrap=True)  # tables fit the terminal; a long line (a path, a URL) is never cut
err = Console(stderr=True)

Host = Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 unless you mean to expose it.")]
Port = Annotated[int, typer.Option(min=1, max=65535)]
PublicUrl = Annotated[str | None, typer.Option(help="Base URL others reach this service at (containers).")]
