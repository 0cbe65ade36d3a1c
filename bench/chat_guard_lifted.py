"""The project's ASGI application with the chat flood guard's window shrunk to 50 ms, for the
throughput steps of bench/chat.py only.

The guard refuses a sixth message from one user within 5 s, so a room of 50 people cannot
carry more than 50 messages a second; measuring 200 needs it out of the way. The guard's
query still runs for every message (same shape, same LIMIT), so a message costs what it costs
with the guard on; only the refusal is lifted.

    python -m videohost.server chat_guard_lifted:application -b 127.0.0.1 -p PORT
    (with bench/ on PYTHONPATH)
"""

# isort: off
# The application first: it sets Django up, which rooms.services needs.
from videohost.asgi import application  # noqa: F401 - what the server serves
from rooms import services

# isort: on

services.FLOOD_WINDOW = 0.05
