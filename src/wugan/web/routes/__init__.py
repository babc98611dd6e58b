"""Routers of the web app: pages per role, and the JSON API."""
