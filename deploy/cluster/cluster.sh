#!/usr/bin/env bash
# Antrian on one machine the way it runs past one box: a three-node Kafka
# cluster (KRaft, each node controller+broker, replication factor 3,
# min.insync.replicas=2), PostgreSQL, two instances of every service, HAProxy
# in front of ticketing (and of display, for the hall screens) and Prometheus
# scraping every instance. State lives in .run-cluster/ (not .run/, so the
# single-box stack and the cluster can coexist); every process started is
# recorded in .run-cluster/pids so that `down` stops exactly those.
#
#   cluster.sh up                 start everything (idempotent), wait until ready
#   cluster.sh down               stop everything `up` started
#   cluster.sh status             which of the cluster's processes run
#   cluster.sh env                the cluster's addresses as shell assignments
#   cluster.sh kill NAME          SIGKILL one process (kafka-2, ticketing-1, postgres, ...)
#   cluster.sh stop NAME          stop one process gracefully (SIGTERM; pg_ctl for postgres)
#   cluster.sh start NAME         start one process again and wait until it is ready
#   cluster.sh restart NAME       stop, then start
#   cluster.sh leader PARTITION   the node id leading a partition of queue.events
#   cluster.sh clean              down, then delete the cluster's data and logs
#
# Ports (each overridable; the defaults keep clear of the single-box stack):
#   ANTRIAN_CLUSTER_LB_PORT (61000)          HAProxy in front of ticketing
#   ANTRIAN_CLUSTER_DISPLAY_LB_PORT (61001)  HAProxy in front of display (screens)
#   ANTRIAN_CLUSTER_HAPROXY_STATS_PORT (61002)
#   ANTRIAN_CLUSTER_KAFKA_PORTS ("61092 61094 61096")
#   ANTRIAN_CLUSTER_CONTROLLER_PORTS ("61093 61095 61097")
#   ANTRIAN_CLUSTER_PG_PORT (61433)
#   ANTRIAN_CLUSTER_TICKETING_PORTS ("61080 61081")
#   ANTRIAN_CLUSTER_DISPLAY_PORTS ("61082 61083")
#   ANTRIAN_CLUSTER_METRICS_PORTS ("61084 61085")
#   ANTRIAN_CLUSTER_PROMETHEUS_PORT (61090)
# Other knobs: ANTRIAN_CLUSTER_RUN_DIR, ANTRIAN_CLUSTER_KAFKA_HEAP (-Xms128m -Xmx384m),
# ANTRIAN_CLUSTER_SCRAPE_INTERVAL (5s; also the scrape timeout), ANTRIAN_ADMIN_PASSWORD.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/cluster"
RUN="${ANTRIAN_CLUSTER_RUN_DIR:-$ROOT/.run-cluster}"
LOGS="$RUN/logs"
PIDS="$RUN/pids"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

KAFKA_VERSION="4.4.0"
CACHE="${ANTRIAN_CACHE_DIR:-$HOME/.cache/antrian}"
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"  # the same cache as deploy/local/stack.sh
KAFKA_HEAP="${ANTRIAN_CLUSTER_KAFKA_HEAP:--Xms128m -Xmx384m}"
read -r -a KAFKA_PORTS <<<"${ANTRIAN_CLUSTER_KAFKA_PORTS:-61092 61094 61096}"
read -r -a CONTROLLER_PORTS <<<"${ANTRIAN_CLUSTER_CONTROLLER_PORTS:-61093 61095 61097}"
PG_PORT="${ANTRIAN_CLUSTER_PG_PORT:-61433}"
LB_PORT="${ANTRIAN_CLUSTER_LB_PORT:-61000}"
DISPLAY_LB_PORT="${ANTRIAN_CLUSTER_DISPLAY_LB_PORT:-61001}"
STATS_PORT="${ANTRIAN_CLUSTER_HAPROXY_STATS_PORT:-61002}"
PROM_PORT="${ANTRIAN_CLUSTER_PROMETHEUS_PORT:-61090}"
SCRAPE_INTERVAL="${ANTRIAN_CLUSTER_SCRAPE_INTERVAL:-5s}"
SERVICES=(ticketing display metrics)
declare -A SERVICE_PORTS=(
    [ticketing]="${ANTRIAN_CLUSTER_TICKETING_PORTS:-61080 61081}"
    [display]="${ANTRIAN_CLUSTER_DISPLAY_PORTS:-61082 61083}"
    [metrics]="${ANTRIAN_CLUSTER_METRICS_PORTS:-61084 61085}"
)
# The environment variable that sets each service's port (DESIGN.md).
declare -A PORT_VAR=([ticketing]=TICKETING_PORT [display]=DISPLAY_PORT [metrics]=METRICS_PORT)

PG_DIR="$RUN/pg"
PG_DATA="$PG_DIR/data"
PG_SOCKET="/tmp/antrian-pg-$(printf '%s' "$RUN" | cksum | cut -d' ' -f1)"

BOOTSTRAP=""
for p in "${KAFKA_PORTS[@]}"; do BOOTSTRAP="${BOOTSTRAP:+$BOOTSTRAP,}127.0.0.1:$p"; done
export KAFKA_BOOTSTRAP_SERVERS="$BOOTSTRAP"
export DATABASE_URL="postgresql://antrian:antrian@127.0.0.1:$PG_PORT/antrian"
LB_URL="http://127.0.0.1:$LB_PORT"

say() { printf '\033[1m[antrian-cluster]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[antrian-cluster] error:\033[0m %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

signature() {  # what the command line of our process NAME contains
    case "$1" in
        kafka-*) echo "$RUN/kafka/${1#kafka-}/server.properties" ;;
        postgres) echo "postgres" ;;
        haproxy) echo "$RUN/haproxy.cfg" ;;
        prometheus) echo "$RUN/prometheus/prometheus.yml" ;;
        *) echo "services.${1%-*}" ;;
    esac
}

alive() {  # alive NAME: the recorded process runs and is still ours
    local f="$PIDS/$1.pid" pid
    [[ -f "$f" ]] || return 1
    pid="$(cat "$f")"
    kill -0 "$pid" 2>/dev/null || return 1
    # A pid file outlives a crash; its number may belong to someone else now.
    [[ -r "/proc/$pid/cmdline" ]] || return 0
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

signal_pid() {  # signal_pid NAME SIGNAL SECONDS: send SIGNAL, wait, then KILL
    local name="$1" sig="$2" limit="$3" f="$PIDS/$1.pid" pid
    [[ -f "$f" ]] || return 0
    pid="$(cat "$f")"
    if alive "$name"; then
        say "stopping $name (pid $pid, SIG$sig)"
        kill -"$sig" "$pid" 2>/dev/null || true
        local end=$((SECONDS + limit))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name did not stop in ${limit}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        fi
    fi
    rm -f "$f"
}

need_cmd() {  # need_cmd BINARY DEBIAN_PACKAGE (installs as root; waits for another apt)
    command -v "$1" >/dev/null 2>&1 && return 0
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing $2 (for $1)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$2" >&2 \
            || { apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 \
                && apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$2" >&2; } \
            || die "could not install $2"
    else
        die "$1 is missing; install it with: sudo apt-get install -y $2"
    fi
}

pg_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [[ -n "$d" && -x "$d/initdb" ]] || return 1
    echo "$d"
}

deps() {
    need_cmd java openjdk-17-jre-headless
    pg_bindir >/dev/null || need_cmd /usr/lib/postgresql/15/bin/initdb postgresql-15
    need_cmd haproxy haproxy
    need_cmd prometheus prometheus
    need_cmd espeak-ng espeak-ng
    [[ -x "$PY" ]] || die "$PY missing: run make venv"
}

# ---------------------------------------------------------------- Kafka
kafka_jars() {
    [[ -f "$KAFKA_LIBS/.complete" ]] && return 0
    need_cmd mvn maven
    say "resolving Kafka $KAFKA_VERSION jars from Maven Central (once; cached in $KAFKA_LIBS)"
    rm -rf "$KAFKA_LIBS.tmp"
    mvn -q -B -f "$ROOT/deploy/local/kafka-pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >&2 \
        || die "Maven could not resolve the Kafka jars (see above)"
    rm -rf "$KAFKA_LIBS" && mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
    touch "$KAFKA_LIBS/.complete"
}

voters() {
    local i out=""
    for i in 0 1 2; do out="${out:+$out,}$((i + 1))@127.0.0.1:${CONTROLLER_PORTS[$i]}"; done
    echo "$out"
}

kafka_java_opts() {  # kafka_java_opts NODE: JAVA_OPTS := the class path and logging of one node
    JAVA_OPTS=(-cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$ROOT/deploy/local/log4j2.properties"
        "-Dkafka.logs.dir=$LOGS/kafka-$1" -Djava.awt.headless=true)
}

kafka_prepare() {  # write every node's properties and format its storage once
    local node dir cluster_id=""
    [[ -s "$RUN/kafka/cluster-id" ]] && cluster_id="$(cat "$RUN/kafka/cluster-id")"
    if [[ -z "$cluster_id" ]]; then
        cluster_id="$(python3 "$ROOT/deploy/local/kafka_cluster_id.py")"
        mkdir -p "$RUN/kafka" && echo "$cluster_id" >"$RUN/kafka/cluster-id"
    fi
    for node in 1 2 3; do
        dir="$RUN/kafka/$node"
        mkdir -p "$dir/data" "$LOGS/kafka-$node"
        sed -e "s|@NODE_ID@|$node|" -e "s|@VOTERS@|$(voters)|" -e "s|@DATA_DIR@|$dir/data|" \
            -e "s|@PORT@|${KAFKA_PORTS[$((node - 1))]}|g" \
            -e "s|@CONTROLLER_PORT@|${CONTROLLER_PORTS[$((node - 1))]}|g" \
            "$HERE/server.properties" >"$dir/server.properties"
        if [[ ! -f "$dir/data/meta.properties" ]]; then
            say "formatting kafka-$node (cluster $cluster_id)"
            kafka_java_opts "$node"
            java "${JAVA_OPTS[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
                -c "$dir/server.properties" >>"$LOGS/kafka-format.log" 2>&1 \
                || die "formatting kafka-$node failed: see $LOGS/kafka-format.log"
        fi
    done
}

kafka_start() {  # kafka_start NODE: launch one node (no wait)
    local node="$1" name="kafka-$1"
    alive "$name" && { say "$name already running"; return 0; }
    local port="${KAFKA_PORTS[$((node - 1))]}" cport="${CONTROLLER_PORTS[$((node - 1))]}"
    for p in "$port" "$cport"; do port_open "$p" && die "port $p (for $name) is already taken"; done
    say "starting $name on 127.0.0.1:$port (controller :$cport)"
    kafka_java_opts "$node"
    # shellcheck disable=SC2086
    setsid java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 "${JAVA_OPTS[@]}" \
        kafka.Kafka "$RUN/kafka/$node/server.properties" >>"$LOGS/$name.out" 2>&1 </dev/null &
    echo $! >"$PIDS/$name.pid"
}

kafka_wait() {  # every node up and the topics replicated
    "$PY" "$HERE/topics.py" --bootstrap "$BOOTSTRAP" --timeout 180 \
        || { tail -n 20 "$LOGS"/kafka-*.out >&2 || true; die "the Kafka cluster did not come up; logs in $LOGS"; }
}

kafka_node_ready() {  # the node answers and the cluster counts three brokers again
    wait_for 120 "kafka-$1's listener" port_open "${KAFKA_PORTS[$(($1 - 1))]}" \
        || die "kafka-$1 did not open its port; log: $LOGS/kafka-$1.out"
    "$PY" "$HERE/topics.py" --bootstrap "$BOOTSTRAP" --timeout 120 || die "kafka-$1 did not rejoin the cluster"
}

# ---------------------------------------------------------------- PostgreSQL
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
    local bin
    bin="$(pg_bindir)" || die "PostgreSQL server binaries missing: sudo apt-get install -y postgresql-15"
    alive postgres && { say "postgres already running"; return 0; }
    port_open "$PG_PORT" && die "port $PG_PORT (for PostgreSQL) is already taken; set ANTRIAN_CLUSTER_PG_PORT"
    mkdir -p "$PG_DIR"
    if [[ $EUID -eq 0 ]]; then
        chown postgres:postgres "$PG_DIR"
        if ! runuser -u postgres -- test -w "$PG_DIR"; then
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
            -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    mkdir -p "$PG_SOCKET"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$PG_SOCKET"
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 60 start \
        -o "-p $PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB" \
        >/dev/null || { tail -n 30 "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
    head -1 "$PG_DATA/postmaster.pid" >"$PIDS/postgres.pid"
    local psql=(as_pg "$bin/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1)
    "${psql[@]}" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'antrian') THEN CREATE ROLE antrian LOGIN SUPERUSER PASSWORD 'antrian'; END IF; END \$\$;"
    [[ -n "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'antrian'")" ]] \
        || "${psql[@]}" -c "CREATE DATABASE antrian OWNER antrian"
    say "postgres is up"
}

pg_stop() {
    alive postgres || { rm -f "$PIDS/postgres.pid"; return 0; }
    say "stopping postgres"
    as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null || signal_pid postgres TERM 10
    rm -f "$PIDS/postgres.pid"
}

# ---------------------------------------------------------------- services
admin_password() {
    if [[ -n "${ANTRIAN_ADMIN_PASSWORD:-}" ]]; then echo "$ANTRIAN_ADMIN_PASSWORD"; return; fi
    local f="$RUN/admin-password"
    [[ -s "$f" ]] || (umask 077; python3 -c 'import secrets;print(secrets.token_urlsafe(12))' >"$f")
    cat "$f"
}

instance_port() {  # instance_port SERVICE N
    local ports; read -r -a ports <<<"${SERVICE_PORTS[$1]}"
    echo "${ports[$(($2 - 1))]}"
}

service_start() {  # service_start SERVICE-N: launch one instance (no wait)
    local name="$1" service="${1%-*}" n="${1##*-}" port
    port="$(instance_port "$service" "$n")"
    [[ -n "$port" ]] || die "no port for $name"
    alive "$name" && { say "$name already running"; return 0; }
    port_open "$port" && die "port $port (for $name) is already taken"
    say "starting $name on :$port"
    env "${PORT_VAR[$service]}=$port" ANTRIAN_ADMIN_PASSWORD="$(admin_password)" \
        DISPLAY_TICKETING_URL="$LB_URL" METRICS_TICKETING_URL="$LB_URL" \
        DISPLAY_AUDIO_CACHE="$RUN/audio-$n" ANTRIAN_LOG_FORMAT="${ANTRIAN_LOG_FORMAT:-json}" \
        TICKETING_TRUSTED_PROXIES="${TICKETING_TRUSTED_PROXIES:-127.0.0.1/32}" \
        TICKETING_RATE_LIMITS="${TICKETING_RATE_LIMITS:-off}" \
        setsid "$PY" -m "services.$service" >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$PIDS/$name.pid"
}

service_wait() {  # service_wait SERVICE-N
    local name="$1" port
    port="$(instance_port "${1%-*}" "${1##*-}")"
    wait_for 90 "$name" curl -fsS "http://127.0.0.1:$port/readyz" \
        || { tail -n 20 "$LOGS/$name.log" >&2; die "$name did not become ready; log: $LOGS/$name.log"; }
}

instances() {  # every SERVICE-N name, in start order
    local s ports i
    for s in "${SERVICES[@]}"; do
        read -r -a ports <<<"${SERVICE_PORTS[$s]}"
        for ((i = 1; i <= ${#ports[@]}; i++)); do echo "$s-$i"; done
    done
}

prepare_database() {
    ANTRIAN_ADMIN_PASSWORD="$(admin_password)" "$PY" -m services.ticketing migrate >&2
    ANTRIAN_ADMIN_PASSWORD="$(admin_password)" "$PY" -m services.ticketing seed "$ROOT"/deploy/halls/*.yaml >&2
}

# ---------------------------------------------------------------- HAProxy
servers() {  # servers SERVICE: one `server` line per instance
    local ports i; read -r -a ports <<<"${SERVICE_PORTS[$1]}"
    for ((i = 1; i <= ${#ports[@]}; i++)); do
        echo "    server $1-$i 127.0.0.1:${ports[$((i - 1))]} check"
    done
}

haproxy_config() {
    sed -e "s|@LB_PORT@|$LB_PORT|" -e "s|@DISPLAY_LB_PORT@|$DISPLAY_LB_PORT|" \
        -e "s|@STATS_PORT@|$STATS_PORT|" -e "s|@HERE@|$HERE|" "$HERE/haproxy.cfg" \
        | awk -v t="$(servers ticketing)" -v d="$(servers display)" \
            '/@TICKETING_SERVERS@/ {print t; next} /@DISPLAY_SERVERS@/ {print d; next} {print}' \
            >"$RUN/haproxy.cfg"
    haproxy -c -q -f "$RUN/haproxy.cfg" >&2 || die "the HAProxy configuration is invalid ($RUN/haproxy.cfg)"
}

haproxy_start() {
    alive haproxy && { say "haproxy already running"; return 0; }
    for p in "$LB_PORT" "$DISPLAY_LB_PORT" "$STATS_PORT"; do
        port_open "$p" && die "port $p (for HAProxy) is already taken"
    done
    haproxy_config
    say "starting haproxy on :$LB_PORT (ticketing) and :$DISPLAY_LB_PORT (display)"
    # -db: stay in the foreground (we record its pid); -W: master-worker, reloadable.
    setsid haproxy -W -db -f "$RUN/haproxy.cfg" >>"$LOGS/haproxy.log" 2>&1 </dev/null &
    echo $! >"$PIDS/haproxy.pid"
}

haproxy_wait() { wait_for 30 haproxy curl -fsS "$LB_URL/readyz" || die "haproxy does not answer; log: $LOGS/haproxy.log"; }

# ---------------------------------------------------------------- Prometheus
prometheus_start() {
    alive prometheus && { say "prometheus already running"; return 0; }
    port_open "$PROM_PORT" && die "port $PROM_PORT (for Prometheus) is already taken"
    local dir="$RUN/prometheus" s
    mkdir -p "$dir/data"
    {
        printf 'global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n' \
            "$SCRAPE_INTERVAL" "$SCRAPE_INTERVAL" "$SCRAPE_INTERVAL"
        printf '  external_labels:\n    system: antrian-cluster\nrule_files:\n  - alerts.yml\nscrape_configs:\n'
        for s in "${SERVICES[@]}"; do
            local ports p targets=""
            read -r -a ports <<<"${SERVICE_PORTS[$s]}"
            for p in "${ports[@]}"; do targets="${targets:+$targets, }\"127.0.0.1:$p\""; done
            printf '  - job_name: antrian-%s\n    static_configs:\n      - targets: [%s]\n' "$s" "$targets"
        done
    } >"$dir/prometheus.yml"
    cp "$ROOT/deploy/prometheus/alerts.yml" "$dir/alerts.yml"
    say "starting prometheus on :$PROM_PORT (every instance scraped every $SCRAPE_INTERVAL)"
    setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" >>"$LOGS/prometheus.log" 2>&1 </dev/null &
    echo $! >"$PIDS/prometheus.pid"
}

prometheus_wait() {
    wait_for 60 prometheus curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" \
        || die "prometheus did not become ready; log: $LOGS/prometheus.log"
}

# ---------------------------------------------------------------- one component
start_one() {  # start_one NAME: start and wait until ready
    case "$1" in
        kafka-[123]) kafka_start "${1#kafka-}"; kafka_node_ready "${1#kafka-}" ;;
        postgres) pg_start ;;
        haproxy) haproxy_start; haproxy_wait ;;
        prometheus) prometheus_start; prometheus_wait ;;
        ticketing-* | display-* | metrics-*) service_start "$1"; service_wait "$1" ;;
        *) die "unknown process $1" ;;
    esac
}

stop_one() {  # stop_one NAME: graceful stop
    case "$1" in
        postgres) pg_stop ;;
        kafka-*) signal_pid "$1" TERM 60 ;;
        *) signal_pid "$1" TERM 30 ;;
    esac
}

kill_one() {  # kill_one NAME: SIGKILL, and wait until it is gone
    alive "$1" || die "$1 is not running"
    local pid; pid="$(cat "$PIDS/$1.pid")"
    say "SIGKILL $1 (pid $pid)"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$PIDS/$1.pid"
    # PostgreSQL's children outlive a killed postmaster until they notice; wait for them.
    if [[ "$1" == postgres ]]; then
        local end=$((SECONDS + 30))
        while [[ -f "$PG_DATA/postmaster.pid" ]] && pgrep -f -- "-D $PG_DATA" >/dev/null && ((SECONDS < end)); do sleep 0.2; done
    fi
}

names() { echo postgres kafka-1 kafka-2 kafka-3; instances; echo haproxy prometheus; }

# ---------------------------------------------------------------- commands
write_env() {
    local f="$RUN/cluster.env" s
    {
        echo "KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP"
        echo "DATABASE_URL=$DATABASE_URL"
        echo "ANTRIAN_CLUSTER_LB_URL=$LB_URL"
        echo "ANTRIAN_CLUSTER_DISPLAY_LB_URL=http://127.0.0.1:$DISPLAY_LB_PORT"
        echo "ANTRIAN_CLUSTER_PROMETHEUS_URL=http://127.0.0.1:$PROM_PORT"
        echo "ANTRIAN_CLUSTER_HAPROXY_STATS_URL=http://127.0.0.1:$STATS_PORT/stats"
        echo "ANTRIAN_CLUSTER_KAFKA_PORTS=${KAFKA_PORTS[*]}"
        for s in "${SERVICES[@]}"; do echo "ANTRIAN_CLUSTER_${s^^}_PORTS=${SERVICE_PORTS[$s]}"; done
        echo "ANTRIAN_CLUSTER_RUN_DIR=$RUN"
    } >"$f"
    cat "$f"
}

up() {
    deps
    kafka_jars
    mkdir -p "$LOGS" "$PIDS"
    pg_start
    kafka_prepare
    local node name
    for node in 1 2 3; do kafka_start "$node"; done
    kafka_wait
    prepare_database
    # Ticketing first: display and metrics read the hall directory through the balancer.
    for name in $(instances | grep '^ticketing-'); do service_start "$name"; done
    for name in $(instances | grep '^ticketing-'); do service_wait "$name"; done
    haproxy_start
    haproxy_wait
    for name in $(instances | grep -v '^ticketing-'); do service_start "$name"; done
    for name in $(instances | grep -v '^ticketing-'); do service_wait "$name"; done
    prometheus_start
    prometheus_wait
    write_env >/dev/null
    cat >&2 <<MSG

  The Antrian cluster is up (three Kafka nodes, two instances of each service).
    Ticketing through HAProxy   $LB_URL/kiosk/bjb          (stats: http://127.0.0.1:$STATS_PORT/stats)
    Hall screen through HAProxy http://127.0.0.1:$DISPLAY_LB_PORT/display/bjb
    Kafka                       $BOOTSTRAP
    PostgreSQL                  $DATABASE_URL
    Prometheus                  http://127.0.0.1:$PROM_PORT/targets
    Admin login                 admin / (ANTRIAN_ADMIN_PASSWORD or $RUN/admin-password)
    Addresses for scripts       $RUN/cluster.env     Stop it all: make cluster-down

MSG
}

down() {
    local name
    signal_pid prometheus TERM 20
    signal_pid haproxy TERM 10
    for name in $(instances | tac); do signal_pid "$name" TERM 30; done
    # All three nodes at once: the last node left alone has no controller quorum
    # to acknowledge its controlled shutdown and would wait for it.
    for name in kafka-3 kafka-2 kafka-1; do
        if alive "$name"; then kill -TERM "$(cat "$PIDS/$name.pid")" 2>/dev/null || true; fi
    done
    for name in kafka-3 kafka-2 kafka-1; do signal_pid "$name" TERM 40; done
    pg_stop
    say "stopped"
}

status() {
    local n
    for n in $(names); do
        if alive "$n"; then echo "$n: running (pid $(cat "$PIDS/$n.pid"))"; else echo "$n: stopped"; fi
    done
}

leader() {  # the node id leading PARTITION of queue.events
    "$PY" - "$BOOTSTRAP" "$1" <<'PYCODE'
import asyncio, sys
from aiokafka.admin import AIOKafkaAdminClient

async def main() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=sys.argv[1])
    await admin.start()
    try:
        (topic,) = await admin.describe_topics(["queue.events"])
        for p in topic["partitions"]:
            if p["partition"] == int(sys.argv[2]):
                print(p["leader"])
    finally:
        await admin.close()

asyncio.run(main())
PYCODE
}

cmd="${1:-}"
case "$cmd" in
    up) up ;;
    down) down ;;
    status) status ;;
    env) [[ -f "$RUN/cluster.env" ]] && cat "$RUN/cluster.env" || write_env ;;
    kill) kill_one "${2:?name}" ;;
    stop) stop_one "${2:?name}" ;;
    start) mkdir -p "$LOGS" "$PIDS"; start_one "${2:?name}" ;;
    restart) stop_one "${2:?name}"; start_one "$2" ;;
    leader) leader "${2:?partition}" ;;
    clean)
        down
        if [[ -L "$PG_DIR" ]]; then rm -rf "$(readlink -f "$PG_DIR")"; fi
        rm -rf "$RUN" "$PG_SOCKET"
        say "deleted $RUN"
        ;;
    *) die "usage: cluster.sh {up|down|status|env|clean|kill NAME|stop NAME|start NAME|restart NAME|leader PARTITION}" ;;
esac
