"""The package version, in a module of its own so that any layer can name it without importing the package,
and the record a shipped file keeps of how it was made."""
__version__ = "0.1.0"


def provenance(command: str) -> dict:
    """What a shipped result file records about how it was made: command, versions, machine, date."""
    import platform
    from datetime import datetime, timezone

    import torch

    return {"command": command, "package_version": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
            "written": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def command_line(module: str, argv) -> str:
    """A command as one would type it again, for provenance records: ``python -m MODULE ARGS`` (arguments
    quoted where the shell needs it)."""
    import shlex

    return f"python -m {module} " + " ".join(shlex.quote(str(a)) for a in argv)
