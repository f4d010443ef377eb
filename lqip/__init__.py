"""lqip — compliance checker for the returns of a county's IP-strong work plan.

The library works without the CLI:

    from lqip import load_plan, check_paths
    report = check_paths(["returns/"], load_plan())
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["load_plan", "check_paths", "check_file", "__version__"]


def __getattr__(name: str):
    # Lazy: `import lqip` stays light for the CLI's start-up.
    if name == "load_plan":
        from lqip.plan import load_plan

        return load_plan
    if name in ("check_paths", "check_file"):
        from lqip import check

        return getattr(check, name)
    raise AttributeError(name)
