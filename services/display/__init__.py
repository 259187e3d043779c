"""The display service: live hall screens over websockets, with a voice.

It folds ``queue.events`` into what a hall TV shows (``screen``, pure), speaks
calls in Indonesian (``announce``, pure; ``audio``, espeak-ng on the server)
and pushes every change to the screens over websockets (``hub``), all on one
port (``server``: aiohttp for HTTP, the websockets library for ``/ws/``).

URLs (port 8081 by default):

- ``/display/{branch_id}`` the hall page; ``?zone=lantai-2`` shows one zone's
  counters and calls, ``?kiosk=1`` skips the one-time "tap to enable sound"
  prompt (for TVs whose browser is started with autoplay allowed);
- ``/ws/{branch_id}[?zone=…]`` the screen stream (``hub`` documents it);
- ``/audio/{id}.wav`` a spoken announcement, for browsers without speech;
- ``/api/v1/branches/{branch_id}/screen[?zone=…]`` the snapshot as JSON;
- ``/healthz``, ``/readyz`` (Kafka answers and today's state is rebuilt),
  ``/metrics``.

Settings (``settings``): ``KAFKA_BOOTSTRAP_SERVERS``, ``DISPLAY_HOST``,
``DISPLAY_PORT``, ``ANTRIAN_EVENTS_TOPIC``, ``ANTRIAN_DLQ_TOPIC``,
``DISPLAY_TICKETING_URL`` (branch directory), ``DISPLAY_DEFAULT_TIMEZONE``,
``DISPLAY_DIRECTORY_TTL``, ``DISPLAY_AUDIO_CACHE``, ``DISPLAY_ESPEAK``,
``DISPLAY_ALLOWED_ORIGINS`` (comma-separated; empty allows any origin),
``DISPLAY_PING_INTERVAL``, ``DISPLAY_CLIENT_BUFFER`` (bytes of unsent output
after which a screen counts as stuck and is dropped), ``ANTRIAN_LOG_FORMAT``.
"""
