#!/usr/bin/env bash
# Antrian's local stack: a real Kafka broker (KRaft), a real PostgreSQL and the
# three services, all owned by this checkout (state under .run/, jars cached
# under ~/.cache/antrian). Every process we start is recorded in .run/pids so
# that `down` stops exactly those and nothing else.
#
#   stack.sh deps          check/install system packages (as root) or say how
#   stack.sh infra-up      Kafka + PostgreSQL (idempotent)
#   stack.sh infra-down    stop them
#   stack.sh kafka-up|kafka-down   the broker alone (ANTRIAN_RUN_DIR: a private one)
#   stack.sh up            infra + migrations + demo hall + the three services
#   stack.sh down          stop everything `up` started
#   stack.sh run           `up`, follow the logs, Ctrl-C stops it all
#   stack.sh status        what is running
#   stack.sh logs          follow every log
#   stack.sh observe       Prometheus scraping the running services, with the alert rules
#
# ANTRIAN_KAFKA_AUTH=scram (with a fresh .run/): the broker requires SASL/SCRAM,
# each service signs in as its own user, and ACLs let only ticketing write
# queue.events (docs/deploy.md); the passwords are in .run/kafka/scram.env.
#
# Interrupted (Ctrl-C, TERM, HUP) at any moment, `run` stops everything and
# the other starting commands stop what they themselves had started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${ANTRIAN_RUN_DIR:-$ROOT/.run}"  # tests point it elsewhere for a private broker
LOGS="$RUN/logs"
PIDS="$RUN/pids"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

TAG="antrian"
# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"  # say, die, alive, wait_for, the Kafka jars, PostgreSQL set-up
KAFKA_PORT="${ANTRIAN_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${ANTRIAN_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${ANTRIAN_KAFKA_HEAP:--Xms256m -Xmx768m}"
# none: plaintext, anyone may do anything (the local default). scram: SASL/SCRAM
# users per service and the ACLs of docs/deploy.md; passwords in $RUN/kafka/scram.env.
KAFKA_AUTH="${ANTRIAN_KAFKA_AUTH:-none}"
KAFKA_USERS=(admin antrian-ticketing antrian-display antrian-metrics)
PG_PORT="${ANTRIAN_PG_PORT:-5433}"
PG_DIR="$RUN/pg"
PG_DATA="$PG_DIR/data"
# Unix socket paths are limited to ~107 bytes: keep the socket in /tmp.
PG_SOCKET="/tmp/antrian-pg-$(printf '%s' "$RUN" | cksum | cut -d' ' -f1)"  # one per run folder

export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
export DATABASE_URL="${DATABASE_URL:-postgresql://antrian:antrian@127.0.0.1:$PG_PORT/antrian}"

PROM_PORT="${ANTRIAN_PROMETHEUS_PORT:-9090}"

SERVICES=(ticketing display metrics)
declare -A SERVICE_PORT=([ticketing]="${TICKETING_PORT:-8080}" [display]="${DISPLAY_PORT:-8081}" [metrics]="${METRICS_PORT:-8082}")

signature() {  # what the command line of our process NAME contains
    case "$1" in
        kafka) echo "kafka.Kafka" ;;
        postgres) echo "postgres" ;;
        prometheus) echo "prometheus" ;;
        *) echo "services.$1" ;;
    esac
}

stop_pid() {  # stop_pid NAME [SECONDS]: TERM, wait, then KILL
    local name="$1" limit="${2:-30}" f="$PIDS/$1.pid"
    [[ -f "$f" ]] || return 0
    local pid; pid="$(cat "$f")"
    if alive "$name"; then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        local end=$((SECONDS + limit))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < end)); do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name did not stop in ${limit}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$f"
}

# ---------------------------------------------------------------- interrupts
# A command that starts anything sets its trap (catch_signals) before it prints
# or starts anything, so that an interrupt at any moment stops what had been
# started so far. spawn holds an interrupt back for the instant between
# starting a process and recording its pid, so that nothing runs unrecorded.
STARTED=()    # what this invocation started, oldest first
ON_SIGNAL=""  # the function an interrupt runs
HOLDING=""    # set while an interrupt has to wait
PENDING=""    # an interrupt that waited

on_signal() {
    if [[ -n "$HOLDING" ]]; then PENDING=1; return; fi
    trap '' INT TERM HUP  # a second Ctrl-C does not cut the clean-up short
    "$ON_SIGNAL"
}

catch_signals() { ON_SIGNAL="$1"; trap on_signal INT TERM HUP; }
hold_signals() { HOLDING=1; }
release_signals() {
    HOLDING=""
    if [[ -n "$PENDING" ]]; then on_signal; fi
}

spawn() {  # spawn NAME LOG COMMAND...: in a session of its own (deaf to the terminal's Ctrl-C), recorded
    local name="$1" log="$2"; shift 2
    hold_signals
    setsid "$@" >>"$log" 2>&1 </dev/null &
    echo $! >"$PIDS/$name.pid"
    STARTED+=("$name")
    release_signals
}

stop_started() {  # stop what this invocation started, newest first
    local i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        case "${STARTED[$i]}" in
            postgres) pg_down ;;
            kafka) stop_pid kafka 40 ;;
            *) stop_pid "${STARTED[$i]}" 30 ;;
        esac
    done
    STARTED=()
}

abort() {  # the interrupt of up, infra-up, kafka-up, observe and with-infra
    echo >&2
    say "interrupted; stopping what this command started"
    stop_started
    exit 130
}

# ---------------------------------------------------------------- packages
need_cmd() {  # need_cmd BINARY DEBIAN_PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing $2 (for $1)"
        if [[ ! -f "$RUN/.apt-updated" ]]; then
            mkdir -p "$RUN"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && touch "$RUN/.apt-updated"
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2 || die "could not install $2"
    else
        die "$1 is missing; install it with: sudo apt-get install -y $2"
    fi
}

deps() {  # what `run`, `up` and `test` need on the machine
    need_cmd java openjdk-17-jre-headless
    need_cmd mvn maven
    pg_bindir >/dev/null || need_cmd /usr/lib/postgresql/15/bin/initdb postgresql-15
    pg_bindir >/dev/null || die "PostgreSQL server binaries missing: sudo apt-get install -y postgresql-15"
    need_cmd espeak-ng espeak-ng
}

test_deps() {  # what the browser and Prometheus tests need besides
    deps
    need_cmd chromium chromium
    need_cmd prometheus prometheus
    need_cmd promtool prometheus
    need_cmd npm npm  # fetches the pinned axe-core for the accessibility checks
}

# ---------------------------------------------------------------- Kafka
kafka_start() {  # the broker, in the background: kafka_wait waits for it
    if alive kafka; then say "kafka already running (pid $(cat "$PIDS/kafka.pid"))"; return 0; fi
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        port_open "$p" && die "port $p is already taken by another process; stop it or set ANTRIAN_KAFKA_PORT / ANTRIAN_KAFKA_CONTROLLER_PORT"
    done
    need_cmd java openjdk-17-jre-headless
    kafka_jars
    mkdir -p "$RUN/kafka/data" "$LOGS" "$PIDS"
    local props="$RUN/kafka/server.properties"
    local sources=("$ROOT/deploy/local/server.properties") scram=()
    case "$KAFKA_AUTH" in
        none) ;;
        scram) sources+=("$ROOT/deploy/local/server-scram.properties"); scram_passwords ;;
        *) die "ANTRIAN_KAFKA_AUTH must be none or scram, not '$KAFKA_AUTH'" ;;
    esac
    cat "${sources[@]}" | sed -e "s|@DATA_DIR@|$RUN/kafka/data|" -e "s|@PORT@|$KAFKA_PORT|g" \
        -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@ADMIN_PASSWORD@|$(scram_password admin)|g" \
        >"$props"
    chmod 600 "$props"
    local java_opts=(-cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$ROOT/deploy/local/log4j2.properties"
        "-Dkafka.logs.dir=$LOGS" -Djava.awt.headless=true)
    local formatted; formatted="$(cat "$RUN/kafka/auth" 2>/dev/null || echo none)"
    if [[ -f "$RUN/kafka/data/meta.properties" && "$formatted" != "$KAFKA_AUTH" ]]; then
        die "the broker's data in $RUN/kafka was made with ANTRIAN_KAFKA_AUTH=$formatted, not $KAFKA_AUTH: set it back, or stop everything and delete $RUN/kafka"
    fi
    if [[ ! -f "$RUN/kafka/data/meta.properties" ]]; then
        local cluster_id user; cluster_id="$(new_cluster_id)"
        say "formatting Kafka storage (cluster $cluster_id, authentication: $KAFKA_AUTH)"
        if [[ "$KAFKA_AUTH" == scram ]]; then
            for user in "${KAFKA_USERS[@]}"; do
                scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(scram_password "$user")]")
            done
        fi
        # What `kafka-storage.sh format --standalone` runs.
        java "${java_opts[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$props" "${scram[@]}" \
            >>"$LOGS/kafka-format.log" 2>&1 || die "Kafka storage format failed: see $LOGS/kafka-format.log"
        echo "$KAFKA_AUTH" >"$RUN/kafka/auth"
    fi
    say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
    local heap; read -ra heap <<<"$KAFKA_HEAP"
    # What `kafka-server-start.sh` runs: the kafka.Kafka main class. Its own log
    # is $LOGS/kafka.log (log4j2.properties); kafka.out has what the JVM prints.
    spawn kafka "$LOGS/kafka.out" java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 "${java_opts[@]}" \
        kafka.Kafka "$props"
}

kafka_wait() {  # wait until the broker answers and has our topics (also when it was running)
    local env=()
    [[ "$KAFKA_AUTH" == none ]] || env=(KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT KAFKA_SASL_MECHANISM=SCRAM-SHA-512
        KAFKA_SASL_USERNAME=admin "KAFKA_SASL_PASSWORD=$(scram_password admin)")
    if ! env "${env[@]}" "$PY" "$ROOT/deploy/local/ensure_topics.py" --bootstrap "127.0.0.1:$KAFKA_PORT" --timeout 120; then
        tail -n 30 "$LOGS/kafka.out" "$LOGS/kafka.log" >&2 || true
        [[ " ${STARTED[*]} " != *" kafka "* ]] || stop_pid kafka 5
        die "Kafka did not come up; logs in $LOGS"
    fi
    [[ "$KAFKA_AUTH" == none ]] || kafka_acls
    say "kafka is up"
}

scram_passwords() {  # one random password per Kafka user, made once, kept in $RUN/kafka/scram.env
    local file="$RUN/kafka/scram.env" user
    [[ -f "$file" ]] && return 0
    mkdir -p "$RUN/kafka"
    (umask 077; for user in "${KAFKA_USERS[@]}"; do
        printf '%s=%s\n' "$user" "$(python3 -c 'import secrets;print(secrets.token_urlsafe(18))')"
    done >"$file")
}

scram_password() {  # scram_password USER: its password from $RUN/kafka/scram.env
    [[ "$KAFKA_AUTH" == scram ]] || return 0
    sed -n "s|^$1=||p" "$RUN/kafka/scram.env"
}

kafka_acls() {  # the ACLs of docs/deploy.md: only ticketing writes the events topic
    local admin="$RUN/kafka/admin.properties" events="${ANTRIAN_EVENTS_TOPIC:-queue.events}"
    local dlq="${ANTRIAN_DLQ_TOPIC:-queue.events.dlq}"
    (umask 077; printf '%s\n' security.protocol=SASL_PLAINTEXT sasl.mechanism=SCRAM-SHA-512 \
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(scram_password admin)\";" \
        >"$admin")
    local acl=(java -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$ROOT/deploy/local/log4j2.properties"
        "-Dkafka.logs.dir=$LOGS" org.apache.kafka.tools.AclCommand
        --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$admin" --add --force)
    {
        "${acl[@]}" --allow-principal User:antrian-ticketing --operation Write --operation Describe --topic "$events"
        "${acl[@]}" --allow-principal User:antrian-ticketing --operation IdempotentWrite --cluster
        "${acl[@]}" --allow-principal User:antrian-display --allow-principal User:antrian-metrics \
            --operation Read --operation Describe --topic "$events"
        "${acl[@]}" --allow-principal User:antrian-display --allow-principal User:antrian-metrics \
            --operation Read --operation Write --operation Describe --topic "$dlq"
        "${acl[@]}" --allow-principal User:antrian-metrics --operation Read \
            --group metrics --resource-pattern-type prefixed
    } >>"$LOGS/kafka-acls.log" 2>&1 || die "setting the Kafka ACLs failed: see $LOGS/kafka-acls.log"
    say "kafka ACLs set (users and passwords in $RUN/kafka/scram.env)"
}

kafka_up() { kafka_start; kafka_wait; }

# ---------------------------------------------------------------- PostgreSQL
pg_up() {
    local bin
    bin="$(pg_bindir)" || die "PostgreSQL server binaries missing: sudo apt-get install -y postgresql-15"
    if alive postgres; then say "postgres already running"; return 0; fi
    port_open "$PG_PORT" && die "port $PG_PORT is already taken by another process; stop it or set ANTRIAN_PG_PORT"
    mkdir -p "$PIDS" "$LOGS"
    pg_init "$bin"
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # Ours from here: interrupted during pg_ctl, which then stops the postmaster
    # itself, pg_down still finds it through postmaster.pid.
    STARTED+=(postgres)
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 60 start \
        -o "-p $PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB -c fsync=${ANTRIAN_PG_FSYNC:-on}" \
        >/dev/null || { tail -n 30 "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
    head -1 "$PG_DATA/postmaster.pid" >"$PIDS/postgres.pid"
    pg_database "$bin"
    say "postgres is up (database antrian)"
}

pg_down() {
    # Started but not yet recorded (interrupted in pg_ctl): the cluster's own pid file.
    if [[ ! -f "$PIDS/postgres.pid" && -f "$PG_DATA/postmaster.pid" ]]; then
        mkdir -p "$PIDS" && head -1 "$PG_DATA/postmaster.pid" >"$PIDS/postgres.pid"
    fi
    alive postgres || { rm -f "$PIDS/postgres.pid"; return 0; }
    local bin; bin="$(pg_bindir)"
    say "stopping postgres"
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null || stop_pid postgres 10
    rm -f "$PIDS/postgres.pid"
}

infra_up() { mkdir -p "$LOGS" "$PIDS"; pg_up; kafka_up; }
infra_down() { stop_pid kafka 40; pg_down; }

# ---------------------------------------------------------------- services
kiosk_token() {  # the local kiosks' device token, made once
    local f="$RUN/kiosk-token"
    if [[ ! -s "$f" ]]; then
        (umask 077; python3 -c 'import secrets;print(secrets.token_urlsafe(24))' >"$f")
    fi
    cat "$f"
}

check_service_ports() {  # before anything starts: a port someone else holds
    local s
    for s in "${SERVICES[@]}"; do
        alive "$s" || ! port_open "${SERVICE_PORT[$s]}" \
            || die "port ${SERVICE_PORT[$s]} (for $s) is already taken by another process"
    done
}

prepare_services() {  # the admin password, the schema and the demo halls
    admin_password >/dev/null  # in this shell, so GENERATED_PASSWORD is seen
    ANTRIAN_ADMIN_PASSWORD="$(admin_password)"
    export ANTRIAN_ADMIN_PASSWORD
    # The demo hall's kiosks are registered devices: issuing from them is not throttled per address.
    ANTRIAN_KIOSK_TOKEN="$(kiosk_token)"
    export ANTRIAN_KIOSK_TOKEN TICKETING_KIOSK_TOKENS="${TICKETING_KIOSK_TOKENS:-$ANTRIAN_KIOSK_TOKEN}"
    export DISPLAY_TICKETING_URL="${DISPLAY_TICKETING_URL:-http://127.0.0.1:${SERVICE_PORT[ticketing]}}"
    export METRICS_TICKETING_URL="${METRICS_TICKETING_URL:-http://127.0.0.1:${SERVICE_PORT[ticketing]}}"
    "$PY" -m services.ticketing migrate >&2
    "$PY" -m services.ticketing seed "$ROOT"/deploy/halls/*.yaml >&2
}

start_service() {
    local s="$1" port="${SERVICE_PORT[$1]}"
    if alive "$s"; then say "$s already running"; return 0; fi
    port_open "$port" && die "port $port (for $s) is already taken by another process"
    say "starting $s on :$port"
    local sign_in=()  # with ANTRIAN_KAFKA_AUTH=scram each service signs in as its own user
    [[ "$KAFKA_AUTH" == none ]] || sign_in=(KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT KAFKA_SASL_MECHANISM=SCRAM-SHA-512
        "KAFKA_SASL_USERNAME=antrian-$s" "KAFKA_SASL_PASSWORD=$(scram_password "antrian-$s")")
    ANTRIAN_LOG_FORMAT="${ANTRIAN_LOG_FORMAT:-json}" spawn "$s" "$LOGS/$s.log" env "${sign_in[@]}" "$PY" -m "services.$s"
}

wait_ready() {
    local s port
    for s in "$@"; do
        port="${SERVICE_PORT[$s]}"
        if ! wait_for 90 "$s" curl -fsS "http://127.0.0.1:$port/readyz"; then
            tail -n 20 "$LOGS/$s.log" >&2
            die "$s did not become ready; log: $LOGS/$s.log"
        fi
    done
}

services_down() {
    local i
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_pid "${SERVICES[$i]}" 30; done
}

print_urls() {
    cat >&2 <<MSG

  Antrian is up.
    Kiosk (take a ticket)    http://localhost:${SERVICE_PORT[ticketing]}/kiosk/bjb?device=$(kiosk_token)   (MPP Banjarbaru, WITA, office hours)
                             http://localhost:${SERVICE_PORT[ticketing]}/kiosk/jkt?device=$(kiosk_token)   (small Jakarta branch, open around the clock)
    Counter (operators)      http://localhost:${SERVICE_PORT[ticketing]}/counter
    API + OpenAPI            http://localhost:${SERVICE_PORT[ticketing]}/api/v1/branches   http://localhost:${SERVICE_PORT[ticketing]}/openapi.json
    Hall screen              http://localhost:${SERVICE_PORT[display]}/display/bjb   .../display/jkt
    Living demo              make demo
    Daily report             http://localhost:${SERVICE_PORT[metrics]}/api/v1/reports/daily?branch=bjb&date=$(TZ=Asia/Makassar date +%F)
    Prometheus metrics       http://localhost:${SERVICE_PORT[metrics]}/metrics
    Kafka                    127.0.0.1:$KAFKA_PORT   PostgreSQL  $DATABASE_URL
    Logs                     $LOGS  (make logs)
MSG
    if [[ -n "${GENERATED_PASSWORD:-}" ]]; then
        printf '    Admin login              admin / %s  (generated; kept in .run/admin-password)\n\n' \
            "$(cat "$RUN/admin-password")" >&2
    else
        printf '    Admin login              admin / (ANTRIAN_ADMIN_PASSWORD or .run/admin-password)\n\n' >&2
    fi
}

up() {
    deps
    check_service_ports
    mkdir -p "$LOGS" "$PIDS"
    pg_up
    # The broker's JVM takes longest: it boots while the schema is migrated, the
    # halls are seeded and ticketing starts (ticketing needs only PostgreSQL).
    kafka_start
    prepare_services
    start_service ticketing
    kafka_wait
    # Display and metrics read the broker and ask ticketing for the halls:
    # started once both answer, their first look-up succeeds.
    wait_ready ticketing
    start_service display
    start_service metrics
    wait_ready display metrics
    print_urls
}
down() { stop_pid prometheus 20; services_down; infra_down; say "stopped"; }

# ---------------------------------------------------------------- Prometheus
observe() {  # Prometheus with deploy/prometheus, its targets moved to this stack's ports
    need_cmd prometheus prometheus
    need_cmd promtool prometheus
    local dir="$RUN/prometheus" s
    mkdir -p "$dir/data" "$LOGS" "$PIDS"
    for s in "${SERVICES[@]}"; do alive "$s" || say "warning: $s is not running (make up starts it)"; done
    if alive prometheus; then
        say "prometheus already running (pid $(cat "$PIDS/prometheus.pid"))"
    else
        port_open "$PROM_PORT" && die "port $PROM_PORT (for Prometheus) is already taken; set ANTRIAN_PROMETHEUS_PORT"
        sed -e "s/127\.0\.0\.1:8080/127.0.0.1:${SERVICE_PORT[ticketing]}/" \
            -e "s/127\.0\.0\.1:8081/127.0.0.1:${SERVICE_PORT[display]}/" \
            -e "s/127\.0\.0\.1:8082/127.0.0.1:${SERVICE_PORT[metrics]}/" \
            -e "s/127\.0\.0\.1:9090/127.0.0.1:$PROM_PORT/" \
            "$ROOT/deploy/prometheus/prometheus.yml" >"$dir/prometheus.yml"
        cp "$ROOT/deploy/prometheus/alerts.yml" "$dir/alerts.yml"
        promtool check config "$dir/prometheus.yml" >&2 || die "the Prometheus configuration is invalid"
        say "starting prometheus on :$PROM_PORT"
        spawn prometheus "$LOGS/prometheus.log" prometheus --config.file="$dir/prometheus.yml" \
            --storage.tsdb.path="$dir/data" --web.listen-address="127.0.0.1:$PROM_PORT"
        if ! wait_for 60 prometheus curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready"; then
            tail -n 20 "$LOGS/prometheus.log" >&2
            die "prometheus did not become ready; log: $LOGS/prometheus.log"
        fi
    fi
    cat >&2 <<MSG

    Prometheus               http://localhost:$PROM_PORT/targets   (alerts: /alerts, rules: /rules)
    Grafana                  provisioning and dashboards under deploy/grafana (docs/dashboards.md)
    \`make down\` stops it with the rest of the stack.

MSG
}

TAIL_PID=""
stop_everything() {  # the interrupt of run, at any moment of it
    if [[ -n "$TAIL_PID" ]]; then kill "$TAIL_PID" 2>/dev/null || true; fi
    echo
    down
    exit 0
}

run() {  # its trap (stop_everything) is set before it starts anything
    up
    # A background job ignores Ctrl-C: the trap stops the tail with the rest.
    hold_signals
    tail -n 0 -F "$LOGS"/ticketing.log "$LOGS"/display.log "$LOGS"/metrics.log &
    TAIL_PID=$!
    release_signals
    say "following the logs; Ctrl-C stops everything"
    wait
}

status() {
    for n in postgres kafka "${SERVICES[@]}" prometheus; do
        if alive "$n"; then echo "$n: running (pid $(cat "$PIDS/$n.pid"))"; else echo "$n: stopped"; fi
    done
}

logs() { mkdir -p "$LOGS"; tail -n 50 -F "$LOGS"/*.log "$RUN/pg/postgres.log"; }

with_infra() {  # run a command with Kafka and PostgreSQL up; stop only what we started
    local rc=0
    trap stop_started EXIT
    infra_up
    "$@" || rc=$?
    return "$rc"
}

cmd="${1:-}"
case "$cmd" in
    deps) deps ;;
    test-deps) test_deps ;;
    kafka-jars) kafka_jars ;;
    kafka-up) catch_signals abort; mkdir -p "$LOGS" "$PIDS"; kafka_up ;;
    kafka-down) stop_pid kafka 40 ;;
    infra-up) catch_signals abort; infra_up ;;
    infra-down) infra_down ;;
    up) catch_signals abort; up ;;
    down) down ;;
    run) catch_signals stop_everything; run ;;
    status) status ;;
    with-infra) shift; catch_signals abort; with_infra "$@" ;;
    logs) logs ;;
    observe) catch_signals abort; observe ;;
    cluster-up|cluster-down|cluster-status) exec "$ROOT/deploy/cluster/cluster.sh" "${cmd#cluster-}" ;;
    *) die "usage: stack.sh {deps|test-deps|kafka-jars|kafka-up|kafka-down|infra-up|infra-down|up|down|run|status|logs|observe|cluster-up|cluster-down|cluster-status|with-infra CMD...}" ;;
esac
