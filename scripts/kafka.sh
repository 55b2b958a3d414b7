#!/usr/bin/env bash
# A real, single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for development
# and tests. See docs/kafka.md.
#
#   scripts/kafka.sh start     fetch Kafka once (Maven), format fresh storage, start, wait until ready
#   scripts/kafka.sh stop      stop the broker this script started on KAFKA_PORT, remove its data
#   scripts/kafka.sh status    exit 0 and say so when it runs, exit 1 when it does not
#   scripts/kafka.sh restart   stop + start (with KAFKA_KEEP_DATA=1 the data survives)
#   scripts/kafka.sh fetch     only fill the cache (e.g. before going offline)
#
# Environment (all optional):
#   KAFKA_PORT=9092            client port on 127.0.0.1; one broker per port, several may coexist
#   KAFKA_KEEP_DATA=1          stop: keep the data dir; start: reuse it if there is one
#   KAFKA_VERSION              Apache Kafka release to run (default below; see docs/kafka.md)
#   KAFKA_CACHE_DIR            where the broker's jars live (default: user cache dir, not the repo)
#   KAFKA_DATA_DIR             storage, config, pid file and logs (default: per port under TMPDIR)
#   KAFKA_START_TIMEOUT=90     seconds to wait until the broker serves clients
#   KAFKA_STOP_TIMEOUT=30      seconds to wait after SIGTERM before SIGKILL
#   KAFKA_HEAP_OPTS            JVM heap flags (default -Xms256m -Xmx1g)
set -euo pipefail

# The newest release that kafkajs 2.2.4 passes the test suite with AND that Maven Central serves
# complete; docs/kafka.md has the evidence and the other versions tried.
readonly DEFAULT_KAFKA_VERSION=4.3.1

KAFKA_VERSION="${KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}"
PORT="${KAFKA_PORT:-9092}"
KEEP_DATA="${KAFKA_KEEP_DATA:-0}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATES="$HERE/kafka"
CACHE_DIR="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipstream/kafka-$KAFKA_VERSION}"
TMP_ROOT="${TMPDIR:-/tmp}"
DATA_DIR="${KAFKA_DATA_DIR:-${TMP_ROOT%/}/clipstream-kafka-$PORT}"
PID_FILE="$DATA_DIR/kafka.pid"
MARKER="$DATA_DIR/.clipstream-kafka"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

validate() {
  if ! [[ "$PORT" =~ ^[1-9][0-9]{0,4}$ ]] || ((PORT > 65535)); then
    die "KAFKA_PORT must be a port number, got '$PORT'"
  fi
  [[ "$KAFKA_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "KAFKA_VERSION must look like 3.9.2, got '$KAFKA_VERSION'"
  [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_START_TIMEOUT must be whole seconds"
  [[ "$STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_STOP_TIMEOUT must be whole seconds"
}

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found: Kafka needs a Java 17+ runtime on PATH"
  local line major
  line="$(java -version 2>&1 | head -n 1)"
  major="$(sed -E 's/.*version "(1\.)?([0-9]+).*/\2/' <<<"$line")"
  if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "Java 17+ is needed, found: $line"
  fi
}

# Is something accepting connections on 127.0.0.1:$1?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    ((p != PORT)) && ! port_open "$p" && {
      echo "$p"
      return 0
    }
  done
  die "found no free port for the controller"
}

cmdline_of() {
  if [[ -r "/proc/$1/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline"
  else
    ps -ww -p "$1" -o args= 2>/dev/null || true
  fi
}

# Prints the pid of the broker this script started for this data dir, if it still runs. A pid
# that now belongs to some other process (pid reuse) does not count.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cmdline_of "$pid")" == *"kafka.Kafka $DATA_DIR/server.properties"* ]] || return 1
  echo "$pid"
}

classpath() { printf '%s' "$CACHE_DIR/lib/*"; }

logging_dependencies() {
  if [[ "$KAFKA_VERSION" == 3.* ]]; then
    # Kafka 3.x logs through slf4j 1.7 + log4j 1.x API; reload4j is what its own distribution ships.
    printf '%s\n' \
      '    <dependency>' \
      '      <groupId>org.slf4j</groupId>' \
      '      <artifactId>slf4j-reload4j</artifactId>' \
      '      <version>1.7.36</version>' \
      '    </dependency>'
  else
    # Kafka 4.x brings log4j2 itself; slf4j 1.7 needs the log4j2 binding.
    printf '%s\n' \
      '    <dependency>' \
      '      <groupId>org.apache.logging.log4j</groupId>' \
      '      <artifactId>log4j-slf4j-impl</artifactId>' \
      '      <version>2.25.4</version>' \
      '    </dependency>'
  fi
}

# Fills $CACHE_DIR/lib with the broker's runtime classpath (once) and compiles the readiness
# probe (once per probe source). Concurrent first starts wait for each other.
fetch_kafka() {
  mkdir -p "$(dirname "$CACHE_DIR")"
  exec 8>"$CACHE_DIR.lock"
  if command -v flock >/dev/null 2>&1; then flock 8; fi

  if [[ ! -f "$CACHE_DIR/.complete" ]]; then
    command -v mvn >/dev/null 2>&1 || die "mvn not found: Maven is needed once to fetch Kafka $KAFKA_VERSION"
    log "fetching Apache Kafka $KAFKA_VERSION with Maven into $CACHE_DIR (first start only)"
    local tmp pom
    tmp="$(mktemp -d "$CACHE_DIR.tmp.XXXXXX")"
    pom="$(<"$TEMPLATES/pom.xml.in")"
    pom="${pom//@KAFKA_VERSION@/$KAFKA_VERSION}"
    pom="${pom//@LOGGING_DEPENDENCIES@/$(logging_dependencies)}"
    printf '%s\n' "$pom" >"$tmp/pom.xml"
    if ! mvn -B -q -f "$tmp/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
      tail -n 25 "$tmp/mvn.log" >&2
      rm -rf "$tmp"
      die "Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (output above)"
    fi
    rm -f "$tmp/mvn.log"
    touch "$tmp/.complete"
    rm -rf "$CACHE_DIR"
    mv "$tmp" "$CACHE_DIR"
  fi

  local sum
  sum="$({ sha256sum "$TEMPLATES/KafkaReady.java" 2>/dev/null || shasum -a 256 "$TEMPLATES/KafkaReady.java"; } | cut -c1-16)"
  PROBE_DIR="$CACHE_DIR/probe-$sum"
  if [[ ! -f "$PROBE_DIR/KafkaReady.class" ]]; then
    rm -rf "$CACHE_DIR"/probe-*
    mkdir -p "$PROBE_DIR.tmp"
    javac -nowarn -d "$PROBE_DIR.tmp" -cp "$(classpath)" "$TEMPLATES/KafkaReady.java" >&2 ||
      die "could not compile the readiness probe"
    mv "$PROBE_DIR.tmp" "$PROBE_DIR"
  fi

  exec 8>&- # releases the lock
}

# JVM flags shared by the broker and the helper tools; $1 is the log file for this JVM.
jvm_opts() {
  local -a heap
  read -ra heap <<<"$HEAP_OPTS"
  JVM_OPTS=(
    "${heap[@]}"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dkafka.logs.dir=$DATA_DIR/logs"
    "-Dclipstream.kafka.log=$1"
    "-Dlog4j.configuration=file:$TEMPLATES/log4j.properties"
    "-Dlog4j2.configurationFile=$TEMPLATES/log4j2.properties"
  )
}

tool_opts() {
  TOOL_OPTS=(
    -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dclipstream.kafka.log=$DATA_DIR/logs/tools.log"
    "-Dlog4j.configuration=file:$TEMPLATES/log4j.properties"
    "-Dlog4j2.configurationFile=$TEMPLATES/log4j2.properties"
  )
}

cluster_id() {
  local id
  # 16 random bytes, base64url without padding: Kafka's Uuid text form. A leading '-' would be
  # read as an option by the storage tool.
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && break
  done
  echo "$id"
}

render_config() {
  local cport="$1" conf
  conf="$(<"$TEMPLATES/server.properties.in")"
  conf="${conf//@PORT@/$PORT}"
  conf="${conf//@CONTROLLER_PORT@/$cport}"
  conf="${conf//@LOG_DIRS@/$DATA_DIR/kraft}"
  printf '%s\n' "$conf" >"$DATA_DIR/server.properties"
  echo "$cport" >"$DATA_DIR/controller.port"
}

remove_data_dir() {
  [[ -d "$DATA_DIR" ]] || return 0
  [[ -f "$MARKER" ]] || die "$DATA_DIR exists but was not made by this script; not touching it"
  rm -rf "$DATA_DIR"
}

print_failure() {
  log "$1"
  local f
  for f in "$DATA_DIR/logs/server.log" "$DATA_DIR/logs/stdout.log"; do
    [[ -s "$f" ]] || continue
    log "last lines of $f:"
    tail -n 30 "$f" | sed 's/^/  | /' >&2
  done
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running on 127.0.0.1:$PORT (pid $pid)"
    return 0
  fi
  need_java
  fetch_kafka
  port_open "$PORT" && die "127.0.0.1:$PORT is already in use by another process; choose another KAFKA_PORT"

  local t0=$SECONDS cport
  if [[ "$KEEP_DATA" == 1 && -f "$DATA_DIR/kraft/meta.properties" && -f "$DATA_DIR/server.properties" ]]; then
    cport="$(<"$DATA_DIR/controller.port")"
    if port_open "$cport"; then
      cport="$(free_port)"
      render_config "$cport"
    fi
    rm -f "$PID_FILE"
    log "starting Kafka $(<"$DATA_DIR/kafka.version") on 127.0.0.1:$PORT with the kept data in $DATA_DIR"
  else
    remove_data_dir
    mkdir -p "$DATA_DIR/logs" "$DATA_DIR/kraft"
    touch "$MARKER"
    echo "$KAFKA_VERSION" >"$DATA_DIR/kafka.version"
    cport="$(free_port)"
    render_config "$cport"
    log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller :$cport, data $DATA_DIR)"
    tool_opts
    if ! java "${TOOL_OPTS[@]}" -cp "$(classpath)" kafka.tools.StorageTool format \
      -t "$(cluster_id)" -c "$DATA_DIR/server.properties" >"$DATA_DIR/logs/format.log" 2>&1; then
      cat "$DATA_DIR/logs/format.log" >&2
      die "formatting the KRaft storage in $DATA_DIR/kraft failed"
    fi
  fi

  local kversion
  kversion="$(<"$DATA_DIR/kafka.version")"
  [[ "$kversion" == "$KAFKA_VERSION" ]] ||
    die "$DATA_DIR holds Kafka $kversion data but KAFKA_VERSION is $KAFKA_VERSION; start without KAFKA_KEEP_DATA=1"

  jvm_opts "$DATA_DIR/logs/server.log"
  local -a launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid) # detach from the terminal's signals
  "${launcher[@]}" java "${JVM_OPTS[@]}" -cp "$(classpath)" \
    kafka.Kafka "$DATA_DIR/server.properties" >"$DATA_DIR/logs/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"

  tool_opts
  local rc=0
  java "${TOOL_OPTS[@]}" -cp "$(classpath):$PROBE_DIR" KafkaReady \
    "127.0.0.1:$PORT" "$START_TIMEOUT" "$pid" 2>"$DATA_DIR/logs/ready.log" || rc=$?
  if ((rc != 0)); then
    if ((rc == 2)); then
      print_failure "the broker exited during start-up"
    else
      print_failure "the broker did not become ready within ${START_TIMEOUT}s ($(tail -n 1 "$DATA_DIR/logs/ready.log"))"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE"
    die "Kafka did not start on 127.0.0.1:$PORT; its files are in $DATA_DIR"
  fi
  log "ready on 127.0.0.1:$PORT after $((SECONDS - t0))s (pid $pid)"
}

wait_gone() {
  local pid="$1" limit="$2" i
  for ((i = 0; i < limit * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  ! kill -0 "$pid" 2>/dev/null
}

cmd_stop() {
  local pid
  if pid="$(running_pid)"; then
    log "stopping the broker on 127.0.0.1:$PORT (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
      log "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || die "pid $pid did not exit after SIGKILL"
    fi
  else
    log "no broker of this script runs on 127.0.0.1:$PORT"
  fi
  rm -f "$PID_FILE"
  if [[ "$KEEP_DATA" == 1 ]]; then
    [[ -d "$DATA_DIR" ]] && log "kept the data in $DATA_DIR"
  else
    remove_data_dir
  fi
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    log "running on 127.0.0.1:$PORT (pid $pid, Kafka $(<"$DATA_DIR/kafka.version"), data $DATA_DIR)"
    return 0
  fi
  log "not running on 127.0.0.1:$PORT"
  return 1
}

validate
case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart)
    cmd_stop
    cmd_start
    ;;
  fetch)
    need_java
    fetch_kafka
    log "Kafka $KAFKA_VERSION is cached in $CACHE_DIR"
    ;;
  -h | --help | help) usage 0 ;;
  *) usage ;;
esac
