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


# Reference values (the ones librdkafka's unit test of its murmur2
# partitioner checks): a wrong copy stops every test that imports it.
assert [murmur2(k) for k in (b"kafka", b"giberish123456789", b"1234", b"234", b"34", b"4",
                             b"PreAmbleWillBeRemoved,ThePrePartThatIs")] == [
    0xD067CF64, 0x8F552B0C, 0x9FC97B14, 0xE7C009CA, 0x873930DA, 0x5A4B5CA1, 0x78424F1C]
