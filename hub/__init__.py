"""pmhub: keep project-management tools in step.

Plugin authors need only ``hub.hookimpl`` and the contract in ``hub.connector``.
"""

import pluggy

__version__ = "0.1.0"

PROJECT_NAME = "pmhub"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
