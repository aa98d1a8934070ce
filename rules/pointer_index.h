// An index of objects the caller owns, by a key each object holds: open
// addressing with linear probing over one array of pointers. The engine
// finds the users of its batch with it, by dense id and by user id: no
// allocation per user, and one probe sequence in one array, where a
// node-based map allocates a node per user and chases it.
//
// Objects are added one at a time and taken out all at once (Clear).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace segd::rules {

// KeyOf(const T&) returns the key; Hash(key) its hash.
template <typename T, typename Key, typename KeyOf, typename Hash>
class PointerIndex {
 public:
  size_t size() const { return size_; }

  T* Find(const Key& key) const {
    if (size_ == 0) return nullptr;
    for (size_t i = Hash{}(key) & mask_;; i = (i + 1) & mask_) {
      T* t = slots_[i];
      if (t == nullptr || KeyOf{}(*t) == key) return t;
    }
  }

  // REQUIRES: no object with t's key is in the index.
  void Insert(T* t) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    Place(t);
    ++size_;
  }

  // Takes out every object; `all` holds them (and may hold others).
  template <typename Objects>
  void Clear(const Objects& all) {
    if (size_ == 0) return;
    if (size_ * 8 < slots_.size()) {
      // Few: each one's slot is found from its hash. Slots emptied on the
      // way are passed over, not taken for the end of the probe.
      for (const auto& t : all) {
        size_t i = SlotOf(&*t);
        if (i != kNone) slots_[i] = nullptr;
      }
    } else {
      std::fill(slots_.begin(), slots_.end(), nullptr);
    }
    size_ = 0;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  // The slot holding `t`, searched past empty slots (Clear empties the
  // slots of a probe sequence out of order); kNone if not found.
  size_t SlotOf(const T* t) const {
    if (slots_.empty()) return kNone;
    size_t start = Hash{}(KeyOf{}(*t)) & mask_;
    for (size_t i = start, n = 0; n < slots_.size(); i = (i + 1) & mask_, ++n) {
      if (slots_[i] == t) return i;
    }
    return kNone;
  }

  void Place(T* t) {
    size_t i = Hash{}(KeyOf{}(*t)) & mask_;
    while (slots_[i] != nullptr) i = (i + 1) & mask_;
    slots_[i] = t;
  }

  void Grow() {
    std::vector<T*> old = std::move(slots_);
    slots_.assign(std::max<size_t>(64, old.size() * 2), nullptr);
    mask_ = slots_.size() - 1;
    for (T* t : old) {
      if (t != nullptr) Place(t);
    }
  }

  std::vector<T*> slots_;  // a power of two of them, at most half full
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace segd::rules
