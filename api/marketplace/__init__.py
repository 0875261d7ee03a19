"""Marketplace: versioned capability listings, RFQs, bids, counter-offers and the atomic accept (issue 20)."""
