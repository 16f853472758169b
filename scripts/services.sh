#!/usr/bin/env bash
# Real Redis and PostgreSQL servers on loopback for the scale-out tests and benchmark.
#
#   scripts/services.sh [start]   install when missing (Debian packages), start, print the URLs
#   scripts/services.sh stop      stop both (their data stays under $TRACKER_SERVICES_DIR)
#   scripts/services.sh urls      print the URLs only
#
# Fixed, unusual ports so they never meet a system Redis/PostgreSQL. Running `start`
# again is harmless: a server already answering is left alone.
set -euo pipefail

BASE="${TRACKER_SERVICES_DIR:-/tmp/tracker-services}"
REDIS_PORT="${TRACKER_REDIS_PORT:-56379}"
PG_PORT="${TRACKER_PG_PORT:-55432}"
PG_DB=tracker
REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"
PG_URL="postgresql+psycopg://postgres@127.0.0.1:${PG_PORT}/${PG_DB}"

say() { echo "services: $*" >&2; }

install_missing() {
    local missing=()
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        say "please install these Debian packages (needs root): ${missing[*]}"
        exit 1
    fi
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    # The Debian package would start its own cluster on 5432; we only want the binaries.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local bin data sock
    bin="$(pg_bin)"
    data="$BASE/postgres"
    sock="$BASE/pg-socket"
    mkdir -p "$BASE" "$sock"
    chmod 755 "$BASE"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$sock"; fi
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
        say "PostgreSQL already running on 127.0.0.1:$PG_PORT"
    else
        if [ ! -f "$data/PG_VERSION" ]; then
            mkdir -p "$data"
            if [ "$(id -u)" -eq 0 ]; then chown postgres "$data"; fi
            chmod 700 "$data"
            # initdb refuses to run as root: run it as the postgres user. Trust on loopback only.
            as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        fi
        # Tests open many short connections from several worker processes; fsync off: throwaway data.
        as_postgres "$bin/pg_ctl" -D "$data" -l "$sock/postgres.log" -w -t 60 \
            -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $sock -c max_connections=200 -c fsync=off" start >/dev/null
        say "PostgreSQL started on 127.0.0.1:$PG_PORT (data in $data, log in $sock/postgres.log)"
    fi
    if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" \
            | grep -q 1; then
        "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB"
    fi
}

start_redis() {
    mkdir -p "$BASE/redis"
    if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        say "Redis already running on 127.0.0.1:$REDIS_PORT"
        return 0
    fi
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$BASE/redis" \
        --pidfile "$BASE/redis.pid" --logfile "$BASE/redis.log" --save "" --appendonly no
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null
    say "Redis started on 127.0.0.1:$REDIS_PORT"
}

print_urls() {
    echo "TRACKER_DATABASE_URL=$PG_URL"
    echo "TRACKER_BROKER_URL=$REDIS_URL"
}

case "${1:-start}" in
    start)
        install_missing
        start_postgres
        start_redis
        print_urls
        ;;
    stop)
        if [ -f "$BASE/postgres/PG_VERSION" ]; then
            as_postgres "$(pg_bin)/pg_ctl" -D "$BASE/postgres" -m fast stop >/dev/null 2>&1 || true
        fi
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
        say "stopped"
        ;;
    urls)
        print_urls
        ;;
    *)
        echo "usage: $0 [start|stop|urls]" >&2
        exit 2
        ;;
esac
