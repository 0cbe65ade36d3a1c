"""Putting another write between the steps of a hot write (chat, controls), deterministically."""

from collections.abc import Callable

from rooms import services


def on_first_read(monkeypatch, read_name: str, meanwhile: Callable, *, before: bool) -> list:
    """Patch `rooms.services.<read_name>` so that its first call runs `meanwhile()` just before
    the read (`before=True`: another tab stored first) or just after it (it lost the race).
    Returns a list that holds what `meanwhile()` returned once it has run."""
    happened: list = []
    monkeypatch.setattr(
        services, read_name, _interleaved(getattr(services, read_name), meanwhile, before, happened)
    )
    return happened


def on_first_remembered(monkeypatch, meanwhile: Callable, *, before: bool) -> list:
    """The same around the facts this process remembered of the controller's last control
    (`rooms.services._last_controls`), which a control uses in place of the read: the test
    must have made an earlier control for there to be any."""
    remembered = services._last_controls
    happened: list = []
    interleaved = _interleaved(remembered.get, meanwhile, before, happened)

    def get(room_id: int, user_id: int) -> dict | None:
        first = not happened
        facts = interleaved(room_id, user_id)
        assert facts is not None or not first, "nothing remembered: make an earlier control"
        return facts

    monkeypatch.setattr(remembered, "get", get)
    return happened


def _interleaved(read: Callable, meanwhile: Callable, before: bool, happened: list) -> Callable:
    def interleaved(*args, **kwargs):
        if happened:
            return read(*args, **kwargs)
        happened.append(None)  # first: `meanwhile` may read through here too
        if before:
            happened[0] = meanwhile()
            return read(*args, **kwargs)
        facts = read(*args, **kwargs)
        happened[0] = meanwhile()
        return facts

    return interleaved
