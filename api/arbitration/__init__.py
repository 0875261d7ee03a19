"""Disputes of resolved settlements and their arbitration cases (the reference's S16, issue 18)."""
