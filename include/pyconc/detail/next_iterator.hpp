// Internal: the input iterator of a Python-style lazy result (Executor.map's, Pool.imap's),
// driven by its owner's next() returning std::optional<T> (empty at the end), so a range-for
// loop reads like Python's `for r in results:`.
#pragma once

#include <cstddef>
#include <optional>

namespace pyconc::detail {

template <class Owner, class T>
class NextIterator {
 public:
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  NextIterator() = default;
  explicit NextIterator(Owner* owner) : owner_(owner), current_(owner->next()) {}
  T& operator*() { return *current_; }
  NextIterator& operator++() {
    current_ = owner_->next();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const NextIterator& a, const NextIterator& b) {
    return a.current_.has_value() == b.current_.has_value();
  }

 private:
  Owner* owner_ = nullptr;
  std::optional<T> current_;
};

}  // namespace pyconc::detail
