"""The collaborators of the catalog use cases, passed to each as one bundle (``deps``).

It grows with the context: its stores (``storage/ports.py``), its outbound clients
(``adapters/``), its configuration. ``bootstrap.connect`` makes the real one,
``tests/fakes.py`` the fake one.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.bus import Publisher
from shared.events import Recorder


@dataclass
class Deps:
    recorder: Recorder
    publisher: Publisher
