"""The pure core of ticketing: numbering, schedules, the state machines, call-next, estimates.

Nothing here imports asyncio, aiohttp, asyncpg, aiokafka or websockets; time
always comes in as an argument.
"""
