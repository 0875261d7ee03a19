"""The problem codes of the marketplace (one class each: api/core/errors.py)."""

from __future__ import annotations

from api.core.errors import Problem

# Revisions mean the same in every domain: the codes are triage's (a code is defined once).
from api.core.revisions import IfMatchInvalid, RevisionAmbiguous, RevisionConflict  # noqa: F401


class ListingNotFound(Problem):
    status, code, title = 404, "LISTING_NOT_FOUND", "No capability listing with this id for this tenant."


class ListingRevisionNotFound(Problem):
    status, code, title = 404, "LISTING_REVISION_NOT_FOUND", "The listing has no such revision."
    members = ("current_revision",)


class ListingIdTaken(Problem):
    status, code, title = 409, "LISTING_ID_TAKEN", "A listing with this id already exists."


class ListingRetired(Problem):
    status, code, title = 409, "LISTING_RETIRED", "The listing is retired; it cannot change or take RFQs."


class ListingNotActive(Problem):
    status, code, title = 409, "LISTING_NOT_ACTIVE", "The listing is paused or retired; it takes no RFQs."
    members = ("listing_status",)


class RfqNotFound(Problem):
    status, code, title = 404, "RFQ_NOT_FOUND", "No RFQ with this id for this tenant."


class RfqIdTaken(Problem):
    status, code, title = 409, "RFQ_ID_TAKEN", "An RFQ with this id already exists."


class RfqNotOpen(Problem):
    status, code, title = 409, "RFQ_NOT_OPEN", "The RFQ is not open for bidding (assigned, expired, ...)."
    members = ("rfq_status",)


class RfqTargetRequired(Problem):
    status, code, title = 422, "RFQ_TARGET_REQUIRED", "An RFQ names a listing_id or a capability."


class DeadlineInPast(Problem):
    status, code, title = 422, "DEADLINE_IN_PAST", "deadline_at must be later than now."


class CurrencyMismatch(Problem):
    status, code, title = 409, "CURRENCY_MISMATCH", "The currency differs from the RFQ's (or the listing's)."
    members = ("field", "expected", "actual")


class DirectionMismatch(Problem):
    status, code, title = 409, "DIRECTION_MISMATCH", "from_type or to_type differs from the RFQ's."
    members = ("field", "expected", "actual")


class BidNotFound(Problem):
    status, code, title = 404, "BID_NOT_FOUND", "No bid with this id on this RFQ."


class BidIdTaken(Problem):
    status, code, title = 409, "BID_ID_TAKEN", "A bid with this id already exists."


class BidNotPending(Problem):
    status, code, title = 409, "BID_NOT_PENDING", "The bid is accepted or rejected already."
    members = ("bid_status",)


class BidderIsPoster(Problem):
    status, code, title = 409, "BIDDER_IS_POSTER", "An agent cannot bid on its own RFQ."


class CounterOfferNotAllowed(Problem):
    status, code = 409, "COUNTER_OFFER_NOT_ALLOWED"
    title = "The RFQ's counter-offer policy does not let this party counter, or the agent is not that party."
    members = ("allowed_roles",)


class CounterOfferOutOfTurn(Problem):
    status, code, title = 409, "COUNTER_OFFER_OUT_OF_TURN", "The same party proposed the last round."
    members = ("last_proposer_role",)


class CounterOfferLimitReached(Problem):
    status, code, title = 409, "COUNTER_OFFER_LIMIT_REACHED", "The RFQ's policy allows no more rounds."
    members = ("max_rounds",)


class AcceptorNotPoster(Problem):
    status, code, title = 409, "ACCEPTOR_NOT_POSTER", "Only the RFQ's poster can accept a bid."


class PolicyRefMismatch(Problem):
    status, code = 409, "POLICY_REF_MISMATCH"
    title = "The bid's policy reference is not a registered version, or its hash differs from the registry's."
    members = ("policy_id", "policy_version", "expected_policy_hash", "actual_policy_hash")


class AgreementNotFound(Problem):
    status, code, title = 404, "AGREEMENT_NOT_FOUND", "No marketplace agreement with this id for this tenant."
