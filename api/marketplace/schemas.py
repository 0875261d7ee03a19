"""Request and response models of listings, RFQs, bids, counter-offers and agreements (snake_case JSON)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from api.arbitration.schemas import ID_PATTERN, AwareDateTime, Identifier
from api.core.schemas import RequestModel
from api.invoices.schemas import Currency
from api.marketplace.states import BidStatus, ListingStatus, PartyRole, PolicySource, PriceMode, RfqStatus

Text = Annotated[str, Field(max_length=4000)]
Revision = Annotated[int | None, Field(default=None, ge=0, description="Alternative to If-Match.")]
Cents = Annotated[int, Field(gt=0, le=10**15)]
Hours = Annotated[int, Field(gt=0, le=8760)]
PartyType = Annotated[str, Field(pattern=r"^[a-z_]{1,32}$", description="Interaction side, e.g. `agent`.")]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana(value: str) -> str:
    if value not in _zones():
        raise ValueError("not a time zone of the IANA database (e.g. Europe/Berlin)")
    return value


def _clock(value: str) -> str:
    if not CLOCK.match(value):
        raise ValueError("a time of day HH:MM (00:00..24:00)")
    return value


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


class Window(RequestModel):
    day: Day
    start: Annotated[str, AfterValidator(_clock)]
    end: Annotated[str, AfterValidator(_clock)]

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if _minutes(self.start) >= _minutes(self.end):
            raise ValueError("a window ends after it starts (same day)")
        return self


class Availability(RequestModel):
    timezone: Annotated[str, AfterValidator(_iana)] = Field(examples=["Europe/Berlin"])
    windows: list[Window] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _disjoint(self) -> Availability:
        spans = sorted((w.day, _minutes(w.start), _minutes(w.end)) for w in self.windows)
        for before, after in zip(spans, spans[1:], strict=False):
            if before[0] == after[0] and after[1] < before[2]:
                raise ValueError(f"windows overlap on {after[0]}")
        return self


class PriceModel(RequestModel):
    mode: PriceMode = PriceMode.fixed
    amount_cents: Cents | None = None
    min_amount_cents: Cents | None = None
    max_amount_cents: Cents | None = None
    currency: Currency
    unit: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _amounts(self) -> PriceModel:
        if self.mode == PriceMode.quote:
            if self.min_amount_cents is None or self.max_amount_cents is None:
                raise ValueError("a quote names min_amount_cents and max_amount_cents")
        elif self.amount_cents is None:
            raise ValueError(f"a {self.mode.value} price names amount_cents")
        low, high = self.min_amount_cents, self.max_amount_cents
        if low is not None and high is not None and high < low:
            raise ValueError("max_amount_cents is at least min_amount_cents")
        return self


class Sla(RequestModel):
    response_hours: Hours
    completion_hours: Hours

    @model_validator(mode="after")
    def _ordered(self) -> Sla:
        if self.completion_hours < self.response_hours:
            raise ValueError("completion_hours is at least response_hours")
        return self


Tags = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=50)]


def _unique(tags: list[str] | None) -> list[str] | None:
    if tags is not None and len(set(tags)) != len(tags):
        raise ValueError("tags are unique")
    return tags


class ListingFields(RequestModel):
    title: Annotated[str, Field(min_length=1, max_length=240)] | None = None
    description: Text | None = None
    category: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    tags: Annotated[Tags | None, AfterValidator(_unique)] = None
    availability: Availability | None = None
    sla: Sla | None = None


class ListingCreate(ListingFields):
    listing_id: Identifier | None = Field(default=None, description="Default `caplst_<hash>`.")
    capability: Annotated[str, Field(min_length=1, max_length=128)]
    seller_agent_id: Identifier
    status: Literal[ListingStatus.active, ListingStatus.paused] = ListingStatus.active
    price_model: PriceModel


class ListingUpdate(ListingFields):
    """Partial: an omitted field keeps its value; `price_model`, `availability` and `sla` are replaced whole."""

    capability: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    status: Literal[ListingStatus.active, ListingStatus.paused] | None = None
    price_model: PriceModel | None = None
    expected_revision: Revision = None

    @field_validator("capability", "status", "price_model", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Omitting one of these keeps its value; an explicit null would blank a required column.
        if value is None:
            raise ValueError("cannot be null; omit the field to keep its value")
        return value


class ListingOut(BaseModel):
    listing_id: str
    tenant_id: str
    revision: int
    capability: str
    title: str
    description: str | None
    category: str | None
    seller_agent_id: str
    status: ListingStatus
    tags: list[str]
    price_model: dict
    availability: dict | None
    sla: dict | None
    content_hash: str
    created_at: datetime
    updated_at: datetime


class ListingResponse(BaseModel):
    changed: bool
    listing: ListingOut


class CounterOfferPolicy(RequestModel):
    max_rounds: int = Field(
        default=3, ge=0, le=20, description="Counter-offers per bid after the bid itself."
    )
    allowed_roles: list[PartyRole] = Field(default_factory=lambda: [PartyRole.poster, PartyRole.bidder])


class RfqCreate(RequestModel):
    rfq_id: Identifier | None = Field(default=None, description="Default `rfq_<hash>`.")
    listing_id: Identifier | None = None
    capability: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    title: Annotated[str, Field(min_length=1, max_length=240)] | None = None
    description: Text | None = None
    poster_agent_id: Identifier
    from_type: PartyType = "agent"
    to_type: PartyType = "agent"
    budget_cents: Cents
    currency: Currency
    deadline_at: AwareDateTime
    counter_offer_policy: CounterOfferPolicy = Field(default_factory=CounterOfferPolicy)


class RfqOut(BaseModel):
    rfq_id: str
    tenant_id: str
    listing_id: str | None
    listing_revision: int | None
    capability: str
    title: str
    description: str | None
    poster_agent_id: str
    from_type: str
    to_type: str
    status: RfqStatus
    budget_cents: int
    currency: str
    deadline_at: datetime
    counter_offer_policy: CounterOfferPolicy
    accepted_bid_id: str | None
    agreement_id: str | None
    run_id: str | None
    settlement_id: str | None
    accepted_at: datetime | None
    revision: int
    created_at: datetime
    updated_at: datetime


class RfqResponse(BaseModel):
    changed: bool
    rfq: RfqOut


class PolicyRef(RequestModel):
    policy_id: Identifier
    policy_version: int = Field(ge=1)
    policy_hash: Annotated[str, Field(min_length=1, max_length=128)]


class BidCreate(RequestModel):
    bid_id: Identifier | None = Field(default=None, description="Default `bid_<hash>`.")
    bidder_agent_id: Identifier
    from_type: PartyType = "agent"
    to_type: PartyType = "agent"
    amount_cents: Cents
    currency: Currency
    eta_seconds: int = Field(gt=0, le=10**9)
    note: Text | None = None
    policy_ref: PolicyRef | None = None


class CounterOfferCreate(RequestModel):
    proposer_role: PartyRole
    proposer_agent_id: Identifier
    amount_cents: Cents
    currency: Currency | None = Field(default=None, description="Default (and must be) the RFQ's.")
    eta_seconds: int | None = Field(default=None, gt=0, le=10**9, description="Default: the current one.")
    note: Text | None = None
    expected_revision: Revision = None


class ProposalOut(BaseModel):
    round: int
    proposer_role: PartyRole
    proposer_agent_id: str
    amount_cents: int
    currency: str
    eta_seconds: int
    note: str | None
    proposal_hash: str
    created_at: datetime


class BidOut(BaseModel):
    bid_id: str
    tenant_id: str
    rfq_id: str
    bidder_agent_id: str
    from_type: str
    to_type: str
    status: BidStatus
    amount_cents: int
    currency: str
    eta_seconds: int
    note: str | None
    policy_ref: dict | None
    negotiation_round: int
    accepted_at: datetime | None
    rejected_at: datetime | None
    revision: int
    created_at: datetime
    updated_at: datetime


class BidResponse(BaseModel):
    changed: bool
    bid: BidOut
    proposals: list[ProposalOut] = Field(default_factory=list)


class AcceptRequest(RequestModel):
    bid_id: Identifier
    accepted_by_agent_id: Identifier | None = Field(default=None, description="Default: the RFQ's poster.")
    dispute_window_days: int = Field(default=3, ge=0, le=365)
    run_id: Identifier | None = Field(default=None, description="Default `run_mkt_<hash>`.")
    expected_revision: Revision = None


class AgreementOut(BaseModel):
    agreement_id: str
    tenant_id: str
    rfq_id: str
    bid_id: str
    listing_id: str | None
    listing_revision: int | None
    run_id: str
    settlement_id: str
    payer_agent_id: str
    payee_agent_id: str
    accepted_by_agent_id: str
    amount_cents: int
    currency: str
    dispute_window_days: int
    policy_ref: dict
    policy_source: PolicySource
    offer_hash: str
    acceptance_hash: str
    offer: dict
    accepted_at: datetime
    revision: int


class AcceptResponse(BaseModel):
    changed: bool
    rfq: RfqOut
    accepted_bid: BidOut
    rejected_bid_ids: list[str]
    agreement: AgreementOut


class AgreementResponse(BaseModel):
    agreement: AgreementOut


__all__ = ["ID_PATTERN"]
