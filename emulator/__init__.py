"""together-eval-emulator: a local, deterministic emulator of Together AI's evaluation API."""

__version__ = "0.1.0"

from .config import EmulatorConfig  # noqa: E402
from .core import Emulator  # noqa: E402
from .controller import EmulatorController  # noqa: E402
from .mock import EmulatorMock, respx_router  # noqa: E402

__all__ = ["Emulator", "EmulatorConfig", "EmulatorController", "EmulatorMock", "respx_router", "__version__"]
