#include "daemon/outbox.h"

#include <charconv>

#include "state/varint.h"

namespace segd {

namespace {

void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

bool GetBytes(std::string_view* in, std::string* s) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

// The first byte: the kind, with kNullKey set for a message without a key
// and kNullValue for a tombstone.
constexpr uint8_t kNullKey = 0x80;
constexpr uint8_t kNullValue = 0x40;

void EncodeOutboxEntry(OutboxKind kind, const OutMessage& m, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(static_cast<uint8_t>(kind) | (m.null_key ? kNullKey : 0) |
                                   (m.null_value ? kNullValue : 0)));
  PutBytes(out, m.key);
  PutBytes(out, m.value);
  PutVarint(out, m.headers.size());
  for (const auto& [name, value] : m.headers) {
    PutBytes(out, name);
    PutBytes(out, value);
  }
}

Status DecodeOutboxEntry(std::string_view in, OutboxKind* kind, OutMessage* m) {
  *m = OutMessage();
  uint8_t first = in.empty() ? 0xff : static_cast<uint8_t>(in[0]);
  uint8_t k = first & ~(kNullKey | kNullValue);
  if (k > 2) return Status::Internal("corrupt outbox entry");
  *kind = static_cast<OutboxKind>(k);
  m->null_key = (first & kNullKey) != 0;
  m->null_value = (first & kNullValue) != 0;
  in.remove_prefix(1);
  uint64_t headers;
  if (!GetBytes(&in, &m->key) || !GetBytes(&in, &m->value) || !GetVarint(&in, &headers) ||
      headers > in.size()) {
    return Status::Internal("corrupt outbox entry");
  }
  for (uint64_t i = 0; i < headers; ++i) {
    std::string name, value;
    if (!GetBytes(&in, &name) || !GetBytes(&in, &value)) {
      return Status::Internal("corrupt outbox entry header");
    }
    m->headers.emplace_back(std::move(name), std::move(value));
  }
  return Status::Ok();
}

std::string DeliveryMarker::Encode() const {
  return "segd1:" + store_id + ":" + std::to_string(seq);
}

bool DeliveryMarker::Decode(std::string_view text, DeliveryMarker* out) {
  constexpr std::string_view kPrefix = "segd1:";
  if (text.substr(0, kPrefix.size()) != kPrefix) return false;
  text.remove_prefix(kPrefix.size());
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  out->store_id = std::string(text.substr(0, colon));
  std::string_view num = text.substr(colon + 1);
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), out->seq);
  return ec == std::errc() && p == num.data() + num.size();
}

}  // namespace segd
