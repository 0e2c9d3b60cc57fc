#!/usr/bin/env bash
# Resolves the Kafka broker (KRaft) jars from Maven Central into $CACHE/kafka/<version>/libs.
# No tarball: the broker runs as `java -cp 'libs/*' kafka.Kafka server.properties`.
# Prints the libs directory.
COMPONENT=kafka
. "$(dirname "$0")/lib.sh"
need java "a Java runtime >= 17 (Debian: apt-get install openjdk-17-jre-headless)"
need mvn "Maven (Debian: apt-get install maven)"

dest=$CACHE/kafka/$KAFKA_VERSION
if [ ! -f "$dest/libs/kafka_2.13-$KAFKA_VERSION.jar" ]; then
  mkdir -p "$CACHE/kafka"
  work=$(mktemp -d "$CACHE/kafka/.build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  run_logged "resolving kafka $KAFKA_VERSION jars from Maven Central" "$CACHE/kafka-build.log" \
    mvn -B -f "$ROOT/config/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/libs"
  publish "$work" "$dest"
  trap - EXIT
fi
echo "$dest/libs"
