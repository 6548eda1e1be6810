"""Market data in, behind one interface: a MarketFeed yields MarketTicks (solver.pipeline).

- solver.feeds.simulated: the market simulator (engine.simulator) as a live feed;
- solver.feeds.replay: a recorded JSON-lines file (format in that module), and the recorder;
- solver.feeds.validation: the gate every tick passes before the pipeline sees it: bad, stale
  or out-of-order data is rejected with its reason logged and counted, and never reaches a quote.
"""

from solver.feeds.base import FeedExhausted, MarketFeed
from solver.feeds.validation import TickRejected, TickRejection, TickValidator

__all__ = ["FeedExhausted", "MarketFeed", "TickRejected", "TickRejection", "TickValidator"]
