#!/bin/sh
# The image's entry point.
#   (no argument)                 python -m services.$ANTRIAN_SERVICE
#   ticketing|display|metrics …   python -m services.<name> … (e.g. `ticketing migrate`)
#   anything else                 run it as given (e.g. `python -c …`, `sh`)
set -eu
case "${1:-}" in
    ticketing | display | metrics)
        service="$1"
        shift
        exec python -m "services.$service" "$@"
        ;;
    "")
        case "${ANTRIAN_SERVICE:-}" in
            ticketing | display | metrics) exec python -m "services.$ANTRIAN_SERVICE" ;;
            *) echo "antrian: set ANTRIAN_SERVICE to ticketing, display or metrics (got '${ANTRIAN_SERVICE:-}')" >&2; exit 2 ;;
        esac
        ;;
    *) exec "$@" ;;
esac
