"""The marketplace's state machines, as data (the kit: api/core/states.py).

    listing:  active <-> paused; active | paused -> retired (DELETE; terminal)
    rfq:      open -> assigned (accept) | cancelled | expired (deadline passed); assigned -> closed
    bid:      pending -> accepted | rejected (the accept decides both)

An RFQ whose deadline has passed is expired whether or not a write has stored it yet: reads show the
effective status, and the next write on it stores it (lazy expiry, `service.effective_status`).
"""

from __future__ import annotations

from enum import StrEnum

from api.core.states import StateMachine


class ListingStatus(StrEnum):
    active = "active"
    paused = "paused"
    retired = "retired"


class PriceMode(StrEnum):
    fixed = "fixed"
    hourly = "hourly"
    per_unit = "per_unit"
    quote = "quote"


class RfqStatus(StrEnum):
    open = "open"
    assigned = "assigned"
    cancelled = "cancelled"
    closed = "closed"
    expired = "expired"


class BidStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class PartyRole(StrEnum):
    """Who proposes a round of a bid's negotiation: the RFQ's poster or the bid's bidder."""

    poster = "poster"
    bidder = "bidder"


class PolicySource(StrEnum):
    """Where an agreement's pinned policy came from: the tenant's rollout, or the bid's own reference."""

    resolved = "resolved"
    bid = "bid"


LISTING = StateMachine(
    "listing",
    {
        ListingStatus.active: {ListingStatus.paused, ListingStatus.retired},
        ListingStatus.paused: {ListingStatus.active, ListingStatus.retired},
        ListingStatus.retired: set(),
    },
)
RFQ = StateMachine(
    "rfq",
    {
        RfqStatus.open: {RfqStatus.assigned, RfqStatus.cancelled, RfqStatus.expired},
        RfqStatus.assigned: {RfqStatus.closed},
        RfqStatus.cancelled: set(),
        RfqStatus.closed: set(),
        RfqStatus.expired: set(),
    },
)
BID = StateMachine(
    "bid",
    {
        BidStatus.pending: {BidStatus.accepted, BidStatus.rejected},
        BidStatus.accepted: set(),
        BidStatus.rejected: set(),
    },
)
