"""The metrics service: turns ``queue.events`` into Prometheus metrics, daily reports and the IKM.

Layout: ``settings`` (environment), ``errors`` (the exception tree), the pure
core ``aggregates`` (folding one event into stored facts), ``ikm`` (the
satisfaction index) and ``reports`` (daily figures); the edges ``store``
(asyncpg), ``consumer`` (aiokafka), ``exporter`` (Prometheus exposition),
``zones`` (branch time zones, learned from the events) and ``app`` (aiohttp factory).
"""
