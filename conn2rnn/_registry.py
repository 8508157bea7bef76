"""Named registries: every set of names in the package is one :class:`Registry`.

A registry lives in the home module of its concept (tasks in
:mod:`conn2rnn.tasks`, atlases and maps in :mod:`conn2rnn.datasets`, connectome
nulls in :mod:`conn2rnn.nulls`, spatial costs in :mod:`conn2rnn.regimes`, ...);
everything else (spec validation, the CLI's choices, error messages) derives
its list of valid names from it, and third parties add their own entries with
:meth:`Registry.register`::

    from conn2rnn.tasks import TASKS
    TASKS.register("my_task", MyTask)
"""

from __future__ import annotations

from typing import Any, Generic, Iterator, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered mapping from names to entries, with clear errors.

    Parameters
    ----------
    kind : str
        What the entries are ("task", "atlas", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T | None = None, *, overwrite: bool = False) -> Any:
        """Add ``entry`` under ``name``; usable as a decorator when ``entry`` is omitted.

        Raises
        ------
        ValueError
            If ``name`` is taken and ``overwrite`` is False, or is not a plain identifier-like string.
        """
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise ValueError(f"a {self.kind} name must be a non-empty string without surrounding "
                             f"spaces; got {name!r}")
        if entry is None:
            def decorator(obj: T) -> T:
                self.register(name, obj, overwrite=overwrite)
                return obj
            return decorator
        if name in self._entries and not overwrite:
            raise ValueError(f"{self.kind} {name!r} is already registered; pass overwrite=True to replace it")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> T:
        """Remove and return the entry ``name``."""
        self.get(name)
        return self._entries.pop(name)

    def get(self, name: str, *, argument: str | None = None) -> T:
        """The entry ``name``; an unknown name raises an error listing the valid ones.

        Parameters
        ----------
        name : str
        argument : str, optional
            Name of the caller's argument, for the error message (default: the kind).
        """
        if not isinstance(name, str):
            raise TypeError(f"{argument or self.kind} must be a string naming a {self.kind}; "
                            f"got {type(name).__name__}")
        try:
            return self._entries[name]
        except KeyError:
            where = f" in {argument}" if argument and argument != self.kind else ""
            raise ValueError(f"unknown {self.kind} {name!r}{where}; "
                             f"valid: {', '.join(self._entries) or '(none registered)'}") from None

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"

