#!/usr/bin/env bash
# Starts and stops the brokers brook's integration tests, samples and benchmarks run against,
# on 127.0.0.1, without systemd. Every server runs from its own directory under the run dir,
# and only the PIDs recorded there are ever signalled.
#
# usage: scripts/services.sh start|stop|restart|status <service>...
#   services: redis, nats (nats-server with JetStream)   (rabbit, kafka: add a <verb>_<service>
#             function each)
#
#   start    idempotent: a server already answering on its port is left alone
#   stop     SIGTERM, then SIGKILL after a bounded wait; the dataset is discarded
#   restart  Redis: SHUTDOWN SAVE, then start again from that snapshot, so lists and streams
#            survive like on a production server with persistence (for reconnect tests);
#            NATS: stop, then start on the same JetStream store (streams and consumers survive)
#   status   exit 0 when every named service answers, 3 otherwise
#
# environment:
#   BROOK_RUN_DIR      run directory (default /tmp/brook-run)
#   BROOK_REDIS_PORT   Redis port (default 6390; keep ports below 32768, the ephemeral range,
#                      or a readiness probe can connect to itself)
#   BROOK_REDIS_ARGS   extra redis-server arguments, split on spaces (tests use it to emulate
#                      older servers, e.g. "--rename-command BLMPOP x")
#   BROOK_NATS_PORT    NATS client port (default 4232); its monitoring port is BROOK_NATS_HTTP_PORT
#                      (default: the client port + 4000)
#   BROOK_NATS_ARGS    extra nats-server arguments, split on spaces
#   BROOK_WAIT_S       bounded wait for start/stop (default 20 s)
set -u

RUN_DIR=${BROOK_RUN_DIR:-/tmp/brook-run}
REDIS_PORT=${BROOK_REDIS_PORT:-6390}
NATS_PORT=${BROOK_NATS_PORT:-4232}
NATS_HTTP_PORT=${BROOK_NATS_HTTP_PORT:-$((NATS_PORT + 4000))}
WAIT_S=${BROOK_WAIT_S:-20}

die() { echo "services.sh: $*" >&2; exit 1; }

# A PID counts as alive when it exists and is not a zombie: an orphaned server re-parented to a
# slow-reaping PID 1 lingers as <defunct>, and `kill -0` still succeeds on it.
alive() {
  local pid=$1 state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$state" ] && [ "$state" != Z ]
}

# wait_until SECONDS CMD... : poll every 50 ms; fail after SECONDS so CI never hangs.
wait_until() {
  local limit=$1 deadline
  shift
  deadline=$(($(date +%s%N) + limit * 1000000000))
  until "$@"; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

pid_of() { [ -f "$1" ] && cat "$1" 2>/dev/null; }

# Stops the process in pid file $1: SIGTERM, bounded wait, SIGKILL.
stop_pidfile() {
  local file=$1 pid
  pid=$(pid_of "$file")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    if ! wait_until "$WAIT_S" eval '! alive '"$pid"; then
      kill -KILL "$pid" 2>/dev/null
      wait_until 5 eval '! alive '"$pid" || die "pid $pid does not die"
    fi
  fi
  rm -f "$file"
}

# ---- redis -----------------------------------------------------------------------------
redis_dir() { echo "$RUN_DIR/redis-$REDIS_PORT"; }
redis_cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
redis_up() { redis_cli ping 2>/dev/null | grep -q PONG; }
redis_pid() { pid_of "$(redis_dir)/redis.pid"; }

start_redis() {
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install -y redis-server)"
  local dir pid
  dir=$(redis_dir)
  mkdir -p "$dir"
  pid=$(redis_pid)
  if alive "$pid" && redis_up; then
    echo "redis: already running on 127.0.0.1:$REDIS_PORT (pid $pid)"
    return 0
  fi
  if redis_up; then
    die "redis: something else answers on 127.0.0.1:$REDIS_PORT; pick another BROOK_REDIS_PORT"
  fi
  # A snapshot is only loaded when `restart` asked for it; a plain start is a clean server.
  [ "${_BROOK_KEEP_DATA:-0}" = 1 ] || rm -f "$dir/dump.rdb"
  # setsid + closed stdio: the server must not hold the caller's pipes (ctest would wait on
  # them), our lock (fd 9), nor die with the caller's process group.
  # shellcheck disable=SC2086 # BROOK_REDIS_ARGS is a list of words on purpose
  setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$dir" --dbfilename dump.rdb --daemonize no \
    --logfile "$dir/redis.log" ${BROOK_REDIS_ARGS:-} </dev/null >/dev/null 2>&1 9>&- &
  pid=$!
  # Ready means our process answers; if it died (port taken, bad flag) it never will.
  if ! wait_until "$WAIT_S" eval 'alive '"$pid"' && redis_up' || ! alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null
    tail -n 5 "$dir/redis.log" >&2
    die "redis: did not start on 127.0.0.1:$REDIS_PORT"
  fi
  echo "$pid" >"$dir/redis.pid"
  echo "redis: running on 127.0.0.1:$REDIS_PORT (pid $pid, dir $dir)"
}

stop_redis() {
  stop_pidfile "$(redis_dir)/redis.pid"
  echo "redis: stopped (127.0.0.1:$REDIS_PORT)"
}

restart_redis() {
  local pid
  pid=$(redis_pid)
  if alive "$pid"; then
    redis_cli shutdown save >/dev/null 2>&1
    wait_until "$WAIT_S" eval '! alive '"$pid" || stop_redis
    rm -f "$(redis_dir)/redis.pid"
  fi
  _BROOK_KEEP_DATA=1 start_redis
}

status_redis() {
  local pid
  pid=$(redis_pid)
  if alive "$pid" && redis_up; then
    echo "redis: running on 127.0.0.1:$REDIS_PORT (pid $pid)"
  else
    echo "redis: not running (127.0.0.1:$REDIS_PORT)"
    return 3
  fi
}

# ---- nats ------------------------------------------------------------------------------
nats_dir() { echo "$RUN_DIR/nats-$NATS_PORT"; }
# Ready means JetStream is up too, not only the client port.
nats_up() { curl -sf "http://127.0.0.1:$NATS_HTTP_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1; }
nats_pid() { pid_of "$(nats_dir)/nats.pid"; }

start_nats() {
  command -v nats-server >/dev/null || die "nats-server not found (apt-get install -y nats-server)"
  command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
  local dir pid
  dir=$(nats_dir)
  mkdir -p "$dir"
  pid=$(nats_pid)
  if alive "$pid" && nats_up; then
    echo "nats: already running on 127.0.0.1:$NATS_PORT (pid $pid)"
    return 0
  fi
  if nats_up; then
    die "nats: something else answers on 127.0.0.1:$NATS_HTTP_PORT; pick another BROOK_NATS_PORT"
  fi
  # A plain start is a clean server; `restart` keeps the JetStream store.
  [ "${_BROOK_KEEP_DATA:-0}" = 1 ] || rm -rf "$dir/store"
  # shellcheck disable=SC2086 # BROOK_NATS_ARGS is a list of words on purpose
  setsid nats-server -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_HTTP_PORT" -js -sd "$dir/store" \
    -l "$dir/nats.log" ${BROOK_NATS_ARGS:-} </dev/null >/dev/null 2>&1 9>&- &
  pid=$!
  if ! wait_until "$WAIT_S" eval 'alive '"$pid"' && nats_up' || ! alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null
    tail -n 5 "$dir/nats.log" >&2
    die "nats: did not start on 127.0.0.1:$NATS_PORT"
  fi
  echo "$pid" >"$dir/nats.pid"
  echo "nats: running on 127.0.0.1:$NATS_PORT with JetStream (pid $pid, dir $dir)"
}

stop_nats() {
  stop_pidfile "$(nats_dir)/nats.pid"
  echo "nats: stopped (127.0.0.1:$NATS_PORT)"
}

restart_nats() {
  stop_pidfile "$(nats_dir)/nats.pid"
  _BROOK_KEEP_DATA=1 start_nats
}

status_nats() {
  local pid
  pid=$(nats_pid)
  if alive "$pid" && nats_up; then
    echo "nats: running on 127.0.0.1:$NATS_PORT (pid $pid)"
  else
    echo "nats: not running (127.0.0.1:$NATS_PORT)"
    return 3
  fi
}

# ---- main ------------------------------------------------------------------------------
verb=${1:-}
shift || true
case "$verb" in
  start | stop | restart | status) ;;
  *) die "usage: services.sh start|stop|restart|status <service>...  (services: redis, nats)" ;;
esac
[ $# -gt 0 ] || die "name a service (redis, nats)"
mkdir -p "$RUN_DIR"
# One invocation at a time per run dir: parallel test processes may start the same server.
exec 9>"$RUN_DIR/.services.lock"
flock -w "$WAIT_S" 9 || die "another services.sh holds $RUN_DIR/.services.lock"
rc=0
for service in "$@"; do
  declare -F "${verb}_${service}" >/dev/null || die "unknown service '$service' (known: redis, nats)"
  "${verb}_${service}" || rc=$?
done
exit "$rc"
