# Shell helpers shared by deploy/local/stack.sh and deploy/cluster/cluster.sh.
# Sourced, never run. The sourcing script sets ROOT, RUN, PIDS, TAG (the prefix
# of its messages) and a function `signature NAME` (what the command line of
# its process NAME contains) before calling any of these.
# shellcheck shell=bash

KAFKA_VERSION="4.4.0"
CACHE="${ANTRIAN_CACHE_DIR:-$HOME/.cache/antrian}"
KAFKA_POM="$ROOT/deploy/local/kafka-pom.xml"
# One folder per version of the pom: a changed pom resolves a fresh set of jars.
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs-$(cksum <"$KAFKA_POM" | cut -d' ' -f1)"

say() { printf '\033[1m[%s]\033[0m %s\n' "$TAG" "$*" >&2; }
die() { printf '\033[31m[%s] error:\033[0m %s\n' "$TAG" "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() {  # alive NAME: the recorded process is running and is still ours
    local f="$PIDS/$1.pid" pid
    [[ -f "$f" ]] || return 1
    pid="$(cat "$f")"
    kill -0 "$pid" 2>/dev/null || return 1
    # A pid file outlives a crash or a reboot, and its number may now belong to
    # someone else: only a process whose command line is ours counts.
    [[ -r "/proc/$pid/cmdline" ]] || return 0  # no /proc here: trust the number
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(signature "$1")"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local limit="$1" what="$2"; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || return 1
        sleep 0.3
    done
    say "$what is up"
}

new_cluster_id() {  # a fresh KRaft cluster id (never one that starts with '-')
    python3 "$ROOT/deploy/local/kafka_cluster_id.py"
}

kafka_jars() {  # the Kafka jars of the pom, resolved from Maven once per machine (needs need_cmd)
    if [[ -f "$KAFKA_LIBS/.complete" ]]; then return 0; fi
    need_cmd mvn maven
    say "resolving Kafka $KAFKA_VERSION jars from Maven Central (once; cached in $KAFKA_LIBS)"
    local tmp="$KAFKA_LIBS.tmp.$$"  # another checkout may resolve the same set at the same time
    rm -rf "$tmp"
    mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >&2 \
        || { rm -rf "$tmp"; die "Maven could not resolve the Kafka jars (see above)"; }
    touch "$tmp/.complete"
    rm -rf "$KAFKA_LIBS" && mv -T "$tmp" "$KAFKA_LIBS" 2>/dev/null || rm -rf "$tmp"
}

# ---------------------------------------------------------------- PostgreSQL
pg_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [[ -n "$d" && -x "$d/initdb" ]] || return 1
    echo "$d"
}

as_pg() {  # run a PostgreSQL binary as the data folder's owner
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_init() {  # pg_init BIN: the data folder (where user postgres can reach it) and its cluster, once
    local bin="$1"
    mkdir -p "$PG_DIR"
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "user postgres missing: sudo apt-get install -y postgresql-15"
        chown postgres:postgres "$PG_DIR"
        if ! runuser -u postgres -- test -w "$PG_DIR"; then
            # The checkout sits where user postgres cannot reach (e.g. under
            # /root): keep the cluster in postgres' home, linked from the run folder.
            local home_dir; home_dir="$(getent passwd postgres | cut -d: -f6)/antrian-$(basename "$PG_SOCKET")"
            say "user postgres cannot reach $PG_DIR; keeping the cluster in $home_dir"
            mkdir -p "$home_dir" && chown postgres:postgres "$home_dir"
            rmdir "$PG_DIR" 2>/dev/null || rm -rf "$PG_DIR"
            ln -sfn "$home_dir" "$PG_DIR"
        fi
    fi
    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        say "initialising a PostgreSQL cluster in $PG_DATA"
        as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
            -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
            || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    mkdir -p "$PG_SOCKET"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$PG_SOCKET"
    return 0
}

pg_database() {  # pg_database BIN: the role and the database antrian, once
    local psql=(as_pg "$1/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1)
    "${psql[@]}" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'antrian') THEN CREATE ROLE antrian LOGIN SUPERUSER PASSWORD 'antrian'; END IF; END \$\$;"
    if [[ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'antrian'")" ]]; then
        "${psql[@]}" -c "CREATE DATABASE antrian OWNER antrian"
    fi
}

admin_password() {  # ANTRIAN_ADMIN_PASSWORD, or one generated once into the run folder
    if [[ -n "${ANTRIAN_ADMIN_PASSWORD:-}" ]]; then echo "$ANTRIAN_ADMIN_PASSWORD"; return; fi
    local f="$RUN/admin-password"
    if [[ ! -s "$f" ]]; then
        (umask 077; python3 -c 'import secrets;print(secrets.token_urlsafe(12))' >"$f")
        GENERATED_PASSWORD=1
    fi
    cat "$f"
}
