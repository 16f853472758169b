#!/usr/bin/env bash
# Load test on loopback: gunicorn (`tracker serve`, with its queue worker) on a fresh
# instance holding the demo data; locust headless with 50 browsing clients and 5 uploading
# ones for a fixed time. Prints the number of errors, the 95th-percentile page time and
# the server's peak memory (RSS of the server process tree, sampled every 0.5 s).
#
#   scripts/loadtest.sh [DURATION]      # default 2m; needs `pip install -e '.[load]'`
#
# Bounded: 55 users, DURATION (at most 10m), a hard timeout; binds 127.0.0.1 only; stops
# only the processes it started.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
TRACKER=${TRACKER:-$ROOT/.venv/bin/tracker}
LOCUST=${LOCUST:-$ROOT/.venv/bin/locust}
DURATION=${1:-2m}
case "$DURATION" in
  [1-9]s|[1-9][0-9]s|[1-9]m|10m) ;;
  *) echo "DURATION must be like 90s or 2m (at most 10m)" >&2; exit 2 ;;
esac
[ -x "$LOCUST" ] || { echo "locust is missing: pip install -e '.[load]'" >&2; exit 2; }

OUT=${LOADTEST_OUT:-$(mktemp -d /tmp/tracker-loadtest.XXXXXX)}
mkdir -p "$OUT"
export LOADTEST_OUT=$OUT
export TRACKER_INSTANCE_PATH=$OUT/instance
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOST=http://127.0.0.1:$PORT

SERVER_PID=""
SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

echo "== demo data in $TRACKER_INSTANCE_PATH"
timeout 900 "$TRACKER" demo >"$OUT/demo.log" 2>&1

echo "== gunicorn on $HOST"
"$TRACKER" serve --host 127.0.0.1 --port "$PORT" --workers 2 --queue-workers 1 >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fsS "$HOST/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$HOST/healthz" >/dev/null

# Peak RSS of the server process tree (gunicorn master + workers + queue worker + decode children).
cat >"$OUT/sampler.py" <<'EOF'
import os, signal, sys, time
root, out = int(sys.argv[1]), sys.argv[2]
peak = [0, 0]
def tree(pid):
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    todo, seen = [pid], []
    while todo:
        q = todo.pop(); seen.append(q); todo += kids.get(q, [])
    return seen
def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
def stop(*_):
    with open(out, "w") as f:
        f.write(f"{peak[0]} {peak[1]}\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while os.path.exists(f"/proc/{root}"):
    pids = tree(root)
    total = sum(rss(p) for p in pids)
    if total > peak[0]:
        peak[0], peak[1] = total, len(pids)
    time.sleep(0.5)
stop()
EOF
"$PY" "$OUT/sampler.py" "$SERVER_PID" "$OUT/peak_rss.txt" &
SAMPLER_PID=$!

echo "== locust: 50 browsing + 5 uploading clients for $DURATION"
set +e
timeout 900 "$LOCUST" -f loadtest/locustfile.py --headless --host "$HOST" -u 55 -r 10 -t "$DURATION" \
  --stop-timeout 20 --csv "$OUT/locust" --only-summary >"$OUT/locust.log" 2>&1
LOCUST_RC=$?
set -e
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""

"$PY" - "$OUT" <<'EOF'
import csv, json, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/locust_stats.csv")))
agg = next(r for r in rows if r["Name"] == "Aggregated")
uploads = next((r for r in rows if r["Name"] == "upload"), None)
pages = json.load(open(f"{out}/pages.json"))
peak, procs = (int(x) for x in open(f"{out}/peak_rss.txt").read().split())
print(f"requests: {agg['Request Count']}  errors: {agg['Failure Count']}")
print(f"pages: {pages['pages']}  page p50: {pages['median_ms']} ms  page p95: {pages['p95_ms']} ms  "
      f"page p99: {pages['p99_ms']} ms  max: {pages['max_ms']} ms")
if uploads:
    print(f"uploads: {uploads['Request Count']} (failed {uploads['Failure Count']})  "
          f"upload p95: {uploads['95%']} ms")
print(f"server peak memory (RSS, {procs} processes): {peak / 1048576:.0f} MB")
print(f"details: {out}/locust_stats.csv, {out}/locust_failures.csv, {out}/server.log")
EOF
exit $LOCUST_RC
