#!/usr/bin/env bash
# Apache Kafka, one KRaft node (broker + controller) on loopback, from the broker's jars on Maven Central.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

KAFKA_LIBS="$SPS_CACHE_DIR/kafka-$KAFKA_VERSION/libs"
KAFKA_DATA="$STACK_DIR/kafka"

provision() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  log "resolving Kafka $KAFKA_VERSION jars with Maven (first run only)"
  rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
  mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >"$SPS_CACHE_DIR/maven.log" 2>&1 ||
    die "maven could not resolve the Kafka jars: see $SPS_CACHE_DIR/maven.log"
  touch "$KAFKA_LIBS/.complete"
}

write_config() {
  mkdir -p "$KAFKA_DATA/logs"
  cat > "$KAFKA_DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
PROPS
  cat > "$KAFKA_DATA/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_DATA/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
PROPS
}

# Kafka's own launch defaults (bin/kafka-run-class.sh: KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS).
# G1's default pause goal (200 ms) let young collections stop the broker for 12-23 ms every few
# seconds under bench:overhead's load, every request in flight waiting them out (the p99).
JAVA_OPTS=(-Xms1g -Xmx1g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)

java_kafka() {
  java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$KAFKA_DATA/log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"
}

start() {
  if port_open "$KAFKA_PORT"; then log "kafka already up on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  provision
  write_config
  if [ ! -f "$KAFKA_DATA/data/meta.properties" ]; then
    log "formatting KRaft storage"
    java_kafka kafka.tools.StorageTool format --standalone -t "$(java_kafka kafka.tools.StorageTool random-uuid)" \
      -c "$KAFKA_DATA/server.properties" >"$KAFKA_DATA/logs/format.log" 2>&1 || die "kafka format failed: $KAFKA_DATA/logs/format.log"
  fi
  log "starting kafka on 127.0.0.1:$KAFKA_PORT"
  # Started directly (not through a function) so that $! is the JVM itself, which stop signals.
  nohup java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$KAFKA_DATA/log4j2.properties" -cp "$KAFKA_LIBS/*" \
    kafka.Kafka "$KAFKA_DATA/server.properties" >"$KAFKA_DATA/logs/stdout.log" 2>&1 &
  echo $! >"$KAFKA_DATA/kafka.pid"
  wait_for_port "$KAFKA_PORT" 90 kafka
}

stop() {
  local pid_file="$KAFKA_DATA/kafka.pid"
  [ -f "$pid_file" ] || return 0
  local pid; pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping kafka"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { log "kafka did not stop in 30s: killing it"; kill -KILL "$pid"; }
  fi
  rm -f "$pid_file"
}

"${1:-start}"
