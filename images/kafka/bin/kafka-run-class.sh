#!/bin/bash
# The official image's CLI scripts, for the classes the lab uses. Tools log only errors (no
# log4j2 config) and get a small heap unless KAFKA_HEAP_OPTS says otherwise.
exec java ${KAFKA_HEAP_OPTS:--Xmx256M} ${KAFKA_OPTS:-} -cp '/opt/kafka/libs/*' "$@"
