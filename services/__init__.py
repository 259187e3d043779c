"""Antrian: an event-driven queue management system for public service halls."""
