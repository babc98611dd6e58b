"""The case store: cases, items, tasks, decisions, notices and their audit, and what changes them."""
