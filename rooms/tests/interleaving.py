"""Putting another write between the steps of a hot write (chat, controls), deterministically."""

from collections.abc import Callable

from rooms import services


def on_first_read(monkeypatch, read_name: str, meanwhile: Callable, *, before: bool) -> list:
    """Patch `rooms.services.<read_name>` so that its first call runs `meanwhile()` just before
    the read (`before=True`: another tab stored first) or just after it (it lost the race).
    Returns a list that holds what `meanwhile()` returned once it has run."""
    read = getattr(services, read_name)
    happened: list = []

    def interleaved(**kwargs):
        if happened:
            return read(**kwargs)
        happened.append(None)  # first: `meanwhile` may read through here too
        if before:
            happened[0] = meanwhile()
            return read(**kwargs)
        facts = read(**kwargs)
        happened[0] = meanwhile()
        return facts

    monkeypatch.setattr(services, read_name, interleaved)
    return happened
