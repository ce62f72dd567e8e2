"""The hub's wiring, composed once: the sync core's, then the IM app's, then the desk's.

`ImhubConfig.ready()` builds this process's runtime with it (`runtime.build(hub_wiring())`) in every
process that sets Django up (a hub process, a management command, the test run).
"""

from __future__ import annotations

from datasync.desk.wiring import desk_wiring
from datasync.im.wiring import im_wiring
from datasync.runtime import Wiring, wiring_compose
from datasync.wiring import core_wiring


def hub_wiring() -> Wiring:
    """Every frame handler, fan-out handler, start-up loader and periodic job of a hub process."""
    return wiring_compose(core_wiring(), im_wiring(), desk_wiring())
