#!/usr/bin/env bash
# Build Antrian's image with podman on this machine and prove it with real
# containers (`make test-containers`). No Docker engine and no Docker Hub are
# needed: the base image is made from Debian's packages with mmdebstrap, and
# containers run as root under runc with host networking
# (docs/deploy.md, "Proving the image here").
#
#   podman.sh deps        podman, runc, mmdebstrap (apt-get, as root); podman-compose is in the venv
#   podman.sh base        the Debian base image (tarball cached in ~/.cache/antrian/containers)
#   podman.sh build       the services image from deploy/container/Containerfile
#   podman.sh check-user  the image runs as a non-root user
#   podman.sh smoke       the compose smoke test (tests/containers) against stack.sh's Kafka and PostgreSQL
#   podman.sh all         all of the above, timed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${ANTRIAN_RUN_DIR:-$ROOT/.run}/containers"
CACHE="${ANTRIAN_CACHE_DIR:-$HOME/.cache/antrian}/containers"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
SUITE="${ANTRIAN_DEBIAN_SUITE:-bookworm}"
BASE_TAR="$CACHE/base-$SUITE.tar"
BASE_IMAGE="localhost/antrian-base:$SUITE"
IMAGE="${ANTRIAN_IMAGE:-localhost/antrian:dev}"
CA_BUNDLE="${ANTRIAN_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

say() { printf '\033[1m[containers]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[containers] error:\033[0m %s\n' "$*" >&2; exit 1; }

# crun fails on these machines ("cgroups in hybrid mode not supported") and
# the default ulimits are refused: runc, and no default ulimits.
mkdir -p "$RUN"
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >"$RUN/containers.conf"
export CONTAINERS_CONF="$RUN/containers.conf"
P=(podman --runtime runc)

need() {  # need BINARY PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    [[ $EUID -eq 0 ]] || die "$1 is missing; install it with: sudo apt-get install -y $2"
    say "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2 || die "could not install $2"
}

deps() {
    need podman podman
    need runc runc
    need mmdebstrap mmdebstrap
    [[ -x "$ROOT/.venv/bin/podman-compose" ]] || die "podman-compose is missing from the venv: run make venv"
}

base() {
    if "${P[@]}" image exists "$BASE_IMAGE"; then say "base image $BASE_IMAGE present"; return 0; fi
    if [[ ! -s "$BASE_TAR" ]]; then
        mkdir -p "$CACHE"
        say "building a Debian $SUITE base with mmdebstrap (once; cached in $BASE_TAR)"
        # The name must end in .tar: mmdebstrap picks the output format from it.
        mmdebstrap --quiet --variant=minbase --include=python3,python3-venv "$SUITE" "$CACHE/.partial.tar" >&2 \
            || die "mmdebstrap failed"
        mv "$CACHE/.partial.tar" "$BASE_TAR"
    fi
    say "importing $BASE_TAR as $BASE_IMAGE"
    "${P[@]}" import --quiet "$BASE_TAR" "$BASE_IMAGE" >/dev/null
}

build() {
    local secret=()
    [[ -r "$CA_BUNDLE" ]] && secret=(--secret "id=ca,src=$CA_BUNDLE")
    say "building $IMAGE (BASE=$BASE_IMAGE)"
    # --format docker keeps the HEALTHCHECK (the OCI format has no such field).
    "${P[@]}" build --network=host --format docker --build-arg "BASE=$BASE_IMAGE" "${secret[@]}" \
        --tag "$IMAGE" --file "$ROOT/deploy/container/Containerfile" "$ROOT" >&2
}

check_user() {
    local uid
    uid="$("${P[@]}" run --rm --network=host --no-healthcheck "$IMAGE" python -c 'import os; print(os.getuid())')"
    [[ "$uid" =~ ^[0-9]+$ ]] || die "could not read the image's user id (got '$uid')"
    ((uid != 0)) || die "the image runs as root"
    if "${P[@]}" run --rm --network=host --no-healthcheck "$IMAGE" sh -c 'for t in gcc cc make pip pip3; do command -v "$t" && exit 0; done; exit 1' >/dev/null 2>&1; then
        die "the final image holds build tools (gcc, cc or pip)"
    fi
    say "the image runs as uid $uid, without compiler or pip"
}

smoke() {
    say "compose smoke test (tests/containers) under podman-compose"
    ANTRIAN_CONTAINER_IMAGE="$IMAGE" "$ROOT/deploy/local/stack.sh" with-infra \
        "$PY" -m pytest -q -p no:cacheprovider -m containers "$ROOT/tests/containers"
}

timed() {  # timed NAME COMMAND...: run it and say how long it took
    local start=$SECONDS
    "$@"
    say "$1: $((SECONDS - start)) s"
    echo "$1 $((SECONDS - start))" >>"$RUN/timings"
}

all() {
    : >"$RUN/timings"
    timed deps
    timed base
    timed build
    timed check_user
    timed smoke
    say "timings (s): $(tr '\n' ' ' <"$RUN/timings")"
}

case "${1:-}" in
    deps) deps ;;
    base) base ;;
    build) build ;;
    check-user) check_user ;;
    smoke) smoke ;;
    all) all ;;
    *) die "usage: podman.sh {deps|base|build|check-user|smoke|all}" ;;
esac
