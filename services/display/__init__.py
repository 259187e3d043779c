"""The display service: live hall screens over websockets, with a voice.

It folds ``queue.events`` into what a hall TV shows (``screen``), speaks it in
Indonesian (``announce``, ``audio``) and pushes every change to the screens
over websockets (``hub``), all on one port (``server``).
"""
