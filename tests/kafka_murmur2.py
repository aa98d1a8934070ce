"""Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), written
from its definition for the tests, so that they check segd's partitioning
(common/kafka_hash.h) against an independent reading."""


def murmur2(data):
    m, h = 0x5BD1E995, (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    for i in range(0, len(data) - len(data) % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = data[len(data) - len(data) % 4:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if len(tail) >= 1:
        h ^= tail[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    return h ^ (h >> 15)


def kafka_partition(key, partitions):
    """The partition Kafka's Java clients (and librdkafka's murmur2
    partitioners) choose for a key."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
