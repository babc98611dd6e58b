"""Notices: rendered into the outbox when a case is acted on, drained by a sender."""
