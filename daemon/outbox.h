// Outbox entries: the messages of a batch, kept in the partition's LMDB
// store in the same transaction as the state that produced them, until a
// Kafka transaction has delivered them (DESIGN.md, exactly once).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "stream/producer.h"

namespace segd {

enum class OutboxKind : uint8_t { kChange = 0, kDeadLetter = 1, kChangelog = 2 };

// The topic is not stored: it is the configured output or dead-letter topic
// of `kind`, or the partition's changelog, so a renamed topic applies to
// what is still undelivered. A changelog entry goes to the partition's own
// partition of its changelog topic.
void EncodeOutboxEntry(OutboxKind kind, const OutMessage& m, std::string* out);
Status DecodeOutboxEntry(std::string_view bytes, OutboxKind* kind, OutMessage* m);

// The marker stored with the committed input offset (offset metadata):
// which store produced the output up to which outbox sequence.
struct DeliveryMarker {
  std::string store_id;
  uint64_t seq = 0;
  std::string Encode() const;  // "segd1:<store_id>:<seq>"
  static bool Decode(std::string_view text, DeliveryMarker* out);
};

}  // namespace segd
