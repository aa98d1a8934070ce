# Pinned versions and cache locations shared by install-deps and kafka-local.
SEGD_KAFKA_VERSION=4.3.1
SEGD_LOG4J_VERSION=2.24.3
SEGD_CACHE=${SEGD_CACHE:-$HOME/.cache/segd}
SEGD_KAFKA_HOME="$SEGD_CACHE/kafka-$SEGD_KAFKA_VERSION"
