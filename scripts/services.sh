#!/usr/bin/env bash
# Starts and stops the brokers brook's integration tests, samples and benchmarks run against,
# on 127.0.0.1, without systemd. Every server runs from its own directory under the run dir,
# and only the PIDs recorded there are ever signalled.
#
# usage: scripts/services.sh start|stop|restart|status <service>...
#   services: redis, nats (nats-server with JetStream), kafka (Apache Kafka, one KRaft node,
#             jars from scripts/kafka-jars.sh), otel (an OpenTelemetry Collector printing every
#             span to its log, built by scripts/otel/build-collector.sh when missing)
#             (rabbit: add a <verb>_<service> function each)
#
#   start    idempotent: a server already answering on its port is left alone
#   stop     SIGTERM, then SIGKILL after a bounded wait; the dataset is discarded
#   restart  Redis: SHUTDOWN SAVE, then start again from that snapshot, so lists and streams
#            survive like on a production server with persistence (for reconnect tests);
#            NATS: stop, then start on the same JetStream store (streams and consumers survive);
#            Kafka: stop, then start on the same data dir (topics, records and committed offsets
#            survive)
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
#   BROOK_KAFKA_PORT   Kafka PLAINTEXT port (default 9392); the KRaft controller listens on the
#                      next port (default 9393)
#   BROOK_KAFKA_LIB    the broker's jars (default ${BROOK_CACHE_DIR:-~/.cache/brook}/kafka-4.1.1,
#                      fetched by scripts/kafka-jars.sh when missing)
#   BROOK_OTEL_PORT    the collector's OTLP/HTTP port (default 4328; gRPC on the next port); its
#                      log, which the tracing tests read, is $RUN_DIR/otel-<port>/collector.log
#   BROOK_OTELCOL      the collector binary (default ${BROOK_CACHE_DIR:-~/.cache/brook}/
#                      otelcol-<version>/dist/otelcol-brook, built when missing;
#                      BROOK_OTEL_BUILD_ONLY=1 with `start otel` builds it and starts nothing)
#   BROOK_WAIT_S       bounded wait for start/stop (default 20 s; Kafka's start gets at least 60 s:
#                      a JVM start can take ~40 s on a loaded 2-core machine)
set -u

RUN_DIR=${BROOK_RUN_DIR:-/tmp/brook-run}
REDIS_PORT=${BROOK_REDIS_PORT:-6390}
NATS_PORT=${BROOK_NATS_PORT:-4232}
NATS_HTTP_PORT=${BROOK_NATS_HTTP_PORT:-$((NATS_PORT + 4000))}
WAIT_S=${BROOK_WAIT_S:-20}
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
KAFKA_PORT=${BROOK_KAFKA_PORT:-9392}
KAFKA_CTRL_PORT=$((KAFKA_PORT + 1))
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SCRIPTS/kafka/pom.xml")
KAFKA_LIB=${BROOK_KAFKA_LIB:-${BROOK_CACHE_DIR:-$HOME/.cache/brook}/kafka-$KAFKA_VERSION}
KAFKA_WAIT_S=$((WAIT_S > 60 ? WAIT_S : 60))
OTEL_PORT=${BROOK_OTEL_PORT:-4328}
OTEL_VERSION=$(sed -n 's:.*otlpreceiver \(v[0-9.]*\).*:\1:p' "$SCRIPTS/otel/manifest.yaml")
OTEL_BUILD=${BROOK_CACHE_DIR:-$HOME/.cache/brook}/otelcol-${OTEL_VERSION#v}
OTELCOL=${BROOK_OTELCOL:-$OTEL_BUILD/dist/otelcol-brook}

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

# TCP connect only (a port taken by anything, not only by the server we expect).
# shellcheck disable=SC2016 # $0 is expanded by the inner bash, the port given as its argument
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null; }

# Stops the process in pid file $1: SIGTERM, bounded wait ($2 s, default BROOK_WAIT_S), SIGKILL.
stop_pidfile() {
  local file=$1 limit=${2:-$WAIT_S} pid
  pid=$(pid_of "$file")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    if ! wait_until "$limit" eval '! alive '"$pid"; then
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

# ---- kafka -----------------------------------------------------------------------------
kafka_dir() { echo "$RUN_DIR/kafka-$KAFKA_PORT"; }
# Ready means the broker answers a Metadata request, not only that its port accepts: the
# listener binds before the broker serves requests. The TCP probe first keeps each poll short
# while nothing listens (kcat alone waits its whole -m second on a refused connection).
kafka_up() {
  port_open "$KAFKA_PORT" && timeout 10 kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 1 >/dev/null 2>&1
}
kafka_pid() { pid_of "$(kafka_dir)/kafka.pid"; }

start_kafka() {
  command -v java >/dev/null || die "kafka: java not found (apt-get install -y openjdk-17-jre-headless)"
  command -v kcat >/dev/null || die "kafka: kcat not found (apt-get install -y kcat)"
  local dir pid cluster_id t0
  dir=$(kafka_dir)
  mkdir -p "$dir"
  pid=$(kafka_pid)
  if alive "$pid" && kafka_up; then
    echo "kafka: already running on 127.0.0.1:$KAFKA_PORT (pid $pid)"
    return 0
  fi
  # Ours but not answering (hung, or a start that timed out): it would hold the ports and the
  # data dir's lock, so it goes first.
  alive "$pid" && stop_pidfile "$(kafka_dir)/kafka.pid" "$KAFKA_WAIT_S"
  if port_open "$KAFKA_PORT" || port_open "$KAFKA_CTRL_PORT"; then
    die "kafka: something else listens on 127.0.0.1:$KAFKA_PORT or :$KAFKA_CTRL_PORT; pick another BROOK_KAFKA_PORT"
  fi
  [ -f "$KAFKA_LIB/kafka_2.13-$KAFKA_VERSION.jar" ] || "$SCRIPTS/kafka-jars.sh" "$KAFKA_LIB" ||
    die "kafka: no broker jars in $KAFKA_LIB (scripts/kafka-jars.sh failed)"
  # A plain start is a clean broker; `restart` keeps the data dir (its meta.properties holds the
  # cluster id the logs belong to), so topics, records and committed offsets survive.
  [ "${_BROOK_KEEP_DATA:-0}" = 1 ] || rm -rf "$dir/data" "$dir/kafka.log"
  # The TLS listener's certificates (the security tests trust $RUN_DIR/certs/ca.pem).
  "$SCRIPTS/gen-certs.sh" "$RUN_DIR/certs" >/dev/null
  cat "$RUN_DIR/certs/server.key" "$RUN_DIR/certs/server.pem" >"$RUN_DIR/certs/server-keystore.pem"
  sed -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CTRL_PORT@#$KAFKA_CTRL_PORT#g" -e "s#@DATA@#$dir/data#g" \
      -e "s#@SASL_PORT@#$((KAFKA_PORT + 2))#g" -e "s#@SSL_PORT@#$((KAFKA_PORT + 3))#g" \
      -e "s#@CERTS@#$RUN_DIR/certs#g" \
    "$SCRIPTS/kafka/server.properties.tmpl" >"$dir/server.properties"
  # -XX:TieredStopAtLevel=1 (C1 only): starts ~1 s sooner and takes less memory on 2 cores.
  # Without log4j2.properties (and the log4j-slf4j-impl jar) the broker logs nothing, not even
  # the error it exits on.
  local jvm=(-Xms256m -Xmx512m -XX:TieredStopAtLevel=1 -XX:+UseG1GC -Djava.awt.headless=true
             "-Dlog4j2.configurationFile=$SCRIPTS/kafka/log4j2.properties"
             "-Dbrook.kafka.log=$dir/kafka.log" -cp "$KAFKA_LIB/*")
  local log_from
  log_from=$(($( { wc -l <"$dir/kafka.log"; } 2>/dev/null || echo 0) + 1))
  t0=$(date +%s%N)
  if [ ! -f "$dir/data/meta.properties" ]; then
    rm -rf "$dir/data"
    # The cluster id: base64url of 16 random bytes, unpadded, as `kafka-storage random-uuid`
    # prints it (one JVM start less); never with a leading '-', which the tool takes for an option.
    cluster_id=
    while [ -z "$cluster_id" ] || [ "${cluster_id:0:1}" = - ]; do
      cluster_id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    java "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      </dev/null >"$dir/format.log" 2>&1 9>&- || { cat "$dir/format.log" >&2; die "kafka: formatting $dir/data failed"; }
  fi
  # setsid + closed stdin: as for redis. stdout/stderr go to kafka.out, not to the caller: what a
  # JVM says before log4j is up (a bad flag, a missing class) is only there.
  setsid java "${jvm[@]}" kafka.Kafka "$dir/server.properties" \
    </dev/null >"$dir/kafka.out" 2>&1 9>&- &
  pid=$!
  # The pid file before the wait (up to a minute): if this script is killed meanwhile, the next
  # call still knows the broker for ours and can stop it.
  echo "$pid" >"$dir/kafka.pid"
  # Stop waiting as soon as it answers, or as soon as it died (port taken, bad config).
  if ! wait_until "$KAFKA_WAIT_S" eval '! alive '"$pid"' || kafka_up' || ! alive "$pid"; then
    local why="did not answer within ${KAFKA_WAIT_S}s"
    alive "$pid" || why="exited during start-up"
    kill -KILL "$pid" 2>/dev/null
    rm -f "$dir/kafka.pid"
    # The log's last lines are a stack trace: show what the JVM printed, and this start's error
    # lines with the exception after each.
    tail -n 5 "$dir/kafka.out" >&2
    tail -n +"$log_from" "$dir/kafka.log" 2>/dev/null | grep -A1 -E '^\[.*\] (ERROR|FATAL)' |
      tail -n 4 >&2
    die "kafka: $why on 127.0.0.1:$KAFKA_PORT (logs in $dir)"
  fi
  echo "kafka: running on 127.0.0.1:$KAFKA_PORT (pid $pid, dir $dir, ready in" \
    "$(( ($(date +%s%N) - t0) / 1000000 )) ms)"
}

stop_kafka() {
  stop_pidfile "$(kafka_dir)/kafka.pid" "$KAFKA_WAIT_S"
  rm -rf "$(kafka_dir)/data"
  echo "kafka: stopped (127.0.0.1:$KAFKA_PORT)"
}

# SIGTERM is a controlled shutdown: the broker flushes its logs and writes its clean-shutdown
# marker, so the start after it does no log recovery.
restart_kafka() {
  stop_pidfile "$(kafka_dir)/kafka.pid" "$KAFKA_WAIT_S"
  _BROOK_KEEP_DATA=1 start_kafka
}

status_kafka() {
  local pid
  pid=$(kafka_pid)
  if alive "$pid" && kafka_up; then
    echo "kafka: running on 127.0.0.1:$KAFKA_PORT (pid $pid)"
  else
    echo "kafka: not running (127.0.0.1:$KAFKA_PORT)"
    return 3
  fi
}

# ---- main ------------------------------------------------------------------------------
# ---- otel ------------------------------------------------------------------------------
otel_dir() { echo "$RUN_DIR/otel-$OTEL_PORT"; }
# Ready means the OTLP/HTTP receiver accepts an (empty) export request.
otel_up() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
       -d '{}' "http://127.0.0.1:$OTEL_PORT/v1/traces" 2>/dev/null)" = 200 ]
}
otel_pid() { pid_of "$(otel_dir)/otel.pid"; }

start_otel() {
  command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
  local dir pid
  dir=$(otel_dir)
  mkdir -p "$dir"
  pid=$(otel_pid)
  if alive "$pid" && otel_up; then
    echo "otel: already running on 127.0.0.1:$OTEL_PORT (pid $pid)"
    return 0
  fi
  if otel_up; then
    die "otel: something else answers on 127.0.0.1:$OTEL_PORT; pick another BROOK_OTEL_PORT"
  fi
  if [ ! -x "$OTELCOL" ]; then
    echo "otel: building the collector $OTEL_VERSION into $OTEL_BUILD (~1.5 min)"
    "$SCRIPTS/otel/build-collector.sh" "$OTEL_BUILD" >/dev/null || die "otel: the build failed"
  fi
  if [ "${BROOK_OTEL_BUILD_ONLY:-0}" = 1 ]; then
    echo "otel: collector at $OTELCOL"
    return 0
  fi
  rm -f "$dir/collector.log"
  BROOK_OTEL_PORT=$OTEL_PORT BROOK_OTEL_GRPC_PORT=$((OTEL_PORT + 1)) \
    setsid "$OTELCOL" --config "$SCRIPTS/otel/config.yaml" </dev/null >"$dir/collector.log" 2>&1 9>&- &
  pid=$!
  if ! wait_until "$WAIT_S" eval 'alive '"$pid"' && otel_up' || ! alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null
    tail -n 5 "$dir/collector.log" >&2
    die "otel: did not start on 127.0.0.1:$OTEL_PORT"
  fi
  echo "$pid" >"$dir/otel.pid"
  echo "otel: running on 127.0.0.1:$OTEL_PORT (pid $pid, log $dir/collector.log)"
}

stop_otel() {
  stop_pidfile "$(otel_dir)/otel.pid"
  echo "otel: stopped (127.0.0.1:$OTEL_PORT)"
}

restart_otel() {
  stop_otel
  start_otel
}

status_otel() {
  local pid
  pid=$(otel_pid)
  if alive "$pid" && otel_up; then
    echo "otel: running on 127.0.0.1:$OTEL_PORT (pid $pid)"
  else
    echo "otel: not running (127.0.0.1:$OTEL_PORT)"
    return 3
  fi
}

verb=${1:-}
shift || true
case "$verb" in
  start | stop | restart | status) ;;
  *) die "usage: services.sh start|stop|restart|status <service>...  (services: redis, nats, kafka, otel)" ;;
esac
[ $# -gt 0 ] || die "name a service (redis, nats, kafka, otel)"
mkdir -p "$RUN_DIR"
# One invocation at a time per run dir: parallel test processes may start the same server. The
# holder may be starting Kafka (up to KAFKA_WAIT_S), so wait for the lock longer than that.
exec 9>"$RUN_DIR/.services.lock"
flock -w "$((KAFKA_WAIT_S + WAIT_S))" 9 || die "another services.sh holds $RUN_DIR/.services.lock"
rc=0
for service in "$@"; do
  declare -F "${verb}_${service}" >/dev/null || die "unknown service '$service' (known: redis, nats, kafka, otel)"
  "${verb}_${service}" || rc=$?
done
exit "$rc"
