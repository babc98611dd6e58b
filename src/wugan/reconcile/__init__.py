"""Reconcile: the difference between what the lake implies and what the case store holds.

``changes`` reads the lake's change log after a consumer's offset; ``detect``
turns it into desired events (new, and held ones to re-examine); ``reverse``
stops what runs for the dead; ``quality`` turns quarantined inputs that could
hold an entitlement into items for their department; ``report`` reads the
same difference without acting: the take-up report.
"""
