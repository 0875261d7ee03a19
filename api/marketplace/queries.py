"""Query models and pages of the marketplace's lists (the kit: api/core/pagination.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.arbitration.schemas import Identifier
from api.core.pagination import Page, PageQuery
from api.marketplace.schemas import BidOut, ListingOut, RfqOut
from api.marketplace.states import BidStatus, ListingStatus, RfqStatus

Capability = Annotated[str, Field(min_length=1, max_length=128)]


class ListingQuery(PageQuery):
    q: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    status: ListingStatus | None = None
    capability: Capability | None = None
    seller_agent_id: Identifier | None = None


class RfqQuery(PageQuery):
    status: RfqStatus | None = None
    capability: Capability | None = None
    poster_agent_id: Identifier | None = None


class BidQuery(PageQuery):
    status: BidStatus | None = None
    bidder_agent_id: Identifier | None = None


class ListingPage(Page[ListingOut]):
    pass


class RfqPage(Page[RfqOut]):
    pass


class BidPage(Page[BidOut]):
    pass
