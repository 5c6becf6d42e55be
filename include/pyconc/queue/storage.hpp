// The three orderings a pyconc queue can have: FIFO, LIFO and smallest-first. Each is a
// plain container with push/pop/size; the blocking and counting live in BasicQueue.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

namespace pyconc::queue::detail {

// A growable ring buffer. Unlike std::deque, it does not allocate and free a block every
// few dozen items: with a producer and a consumer on different threads those frees cross
// malloc arenas and contend on their locks. It shrinks again when mostly empty.
template <class T>
class FifoStorage {
 public:
  template <class U>
  void push(U&& item) {
    if (size_ == slots_.size()) resize(slots_.empty() ? kMinCapacity : slots_.size() * 2);
    slots_[(head_ + size_) & (slots_.size() - 1)].emplace(std::forward<U>(item));  // may throw
    ++size_;
  }
  T pop() {
    std::optional<T>& slot = slots_[head_];
    T item = std::move(*slot);  // may throw: then nothing changed
    slot.reset();
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    if (slots_.size() > kShrinkAbove && size_ <= slots_.size() / 4) resize(slots_.size() / 2);
    return item;
  }
  std::size_t size() const { return size_; }
  void clear() {
    slots_.clear();
    head_ = size_ = 0;
  }

 private:
  static constexpr std::size_t kMinCapacity = 16;   // a power of two, as every capacity is
  static constexpr std::size_t kShrinkAbove = 4096;

  void resize(std::size_t capacity) {
    std::vector<std::optional<T>> bigger(capacity);
    for (std::size_t i = 0; i < size_; ++i)
      bigger[i].emplace(std::move_if_noexcept(*slots_[(head_ + i) & (slots_.size() - 1)]));  // a copy that throws leaves us intact
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<std::optional<T>> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

template <class T>
class LifoStorage {
 public:
  template <class U>
  void push(U&& item) { items_.push_back(std::forward<U>(item)); }
  T pop() {
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  std::size_t size() const { return items_.size(); }
  void clear() { items_.clear(); }

 private:
  std::vector<T> items_;
};

// A binary heap of (item, arrival number): smallest item first, and, unlike Python's
// heapq, equal items in arrival order.
template <class T, class Compare>
class PriorityStorage {
  static_assert(std::is_invocable_r_v<bool, Compare&, const T&, const T&>,
                "PriorityQueue<T, Compare>: items must be comparable with Compare "
                "(Python raises TypeError for items that cannot be compared)");

 public:
  explicit PriorityStorage(Compare compare = Compare()) : compare_(std::move(compare)) {}
  template <class U>
  void push(U&& item) {
    heap_.push_back(Entry{std::forward<U>(item), next_arrival_++});
    std::push_heap(heap_.begin(), heap_.end(), later_first());
  }
  T pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later_first());
    T item = std::move(heap_.back().item);
    heap_.pop_back();
    return item;
  }
  std::size_t size() const { return heap_.size(); }
  void clear() { heap_.clear(); }

 private:
  struct Entry {
    T item;
    std::uint64_t arrival;
  };
  // std::*_heap keep the "largest" on top; "largest" here means first to come out.
  auto later_first() {
    return [this](const Entry& a, const Entry& b) {
      if (compare_(a.item, b.item)) return false;
      if (compare_(b.item, a.item)) return true;
      return a.arrival > b.arrival;
    };
  }
  Compare compare_;
  std::vector<Entry> heap_;
  std::uint64_t next_arrival_ = 0;
};

}  // namespace pyconc::queue::detail
