// The three orderings a pyconc queue can have: FIFO, LIFO and smallest-first. Each is a
// plain container; the blocking and counting live in BasicQueue.
//
// Every operation gives the standard library's strong guarantee, so a queue never loses or
// hollows out an item, whatever T's constructors or the comparator throw:
//  - items whose move constructor may throw are kept boxed (std::unique_ptr<T>), so the
//    container only ever relocates things that cannot throw;
//  - push() does everything that may throw (allocation, T's constructor, comparisons)
//    before the container changes;
//  - taking is front() (read, may throw while the caller copies or moves it out), then
//    prepare_pop() (may throw: comparisons; changes nothing), then pop() (noexcept).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace pyconc::queue::detail {

template <class T>
struct SlotOf {
  static constexpr bool boxed =
      !(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>);
  using type = std::conditional_t<boxed, std::unique_ptr<T>, T>;
  template <class U>
  static type make(U&& item) {
    if constexpr (boxed) {
      return std::make_unique<T>(std::forward<U>(item));
    } else {
      return type(std::forward<U>(item));
    }
  }
  static T& get(type& slot) {
    if constexpr (boxed) {
      return *slot;
    } else {
      return slot;
    }
  }
};

// A growable ring buffer. Unlike std::deque, it does not allocate and free a block every
// few dozen items: with a producer and a consumer on different threads those frees cross
// malloc arenas and contend on their locks. It shrinks again when mostly empty.
template <class T>
class FifoStorage {
  using Slots = SlotOf<T>;

 public:
  template <class U>
  void push(U&& item) {
    auto slot = Slots::make(std::forward<U>(item));  // may throw: nothing changed yet
    if (size_ == slots_.size()) resize(slots_.empty() ? kMinCapacity : slots_.size() * 2);
    slots_[(head_ + size_) & (slots_.size() - 1)].emplace(std::move(slot));
    ++size_;
  }
  T& front() { return Slots::get(*slots_[head_]); }
  void prepare_pop() {}
  void pop() noexcept {
    slots_[head_].reset();
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    if (slots_.size() > kShrinkAbove && size_ <= slots_.size() / 4) {
      try {
        resize(slots_.size() / 2);
      } catch (...) {
        // No memory for the smaller buffer: keep the bigger one.
      }
    }
  }
  std::size_t size() const { return size_; }
  void clear() {
    slots_.clear();
    head_ = size_ = 0;
  }

 private:
  static constexpr std::size_t kMinCapacity = 16;   // a power of two, as every capacity is
  static constexpr std::size_t kShrinkAbove = 4096;

  // Allocates first (may throw: nothing changed), then moves slots, which cannot throw.
  void resize(std::size_t capacity) {
    std::vector<std::optional<typename Slots::type>> other(capacity);
    for (std::size_t i = 0; i < size_; ++i)
      other[i].emplace(std::move(*slots_[(head_ + i) & (slots_.size() - 1)]));
    slots_.swap(other);
    head_ = 0;
  }

  std::vector<std::optional<typename Slots::type>> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

template <class T>
class LifoStorage {
  using Slots = SlotOf<T>;

 public:
  template <class U>
  void push(U&& item) {
    auto slot = Slots::make(std::forward<U>(item));
    items_.push_back(std::move(slot));  // strong: slots move without throwing
  }
  T& front() { return Slots::get(items_.back()); }
  void prepare_pop() {}
  void pop() noexcept { items_.pop_back(); }
  std::size_t size() const { return items_.size(); }
  void clear() { items_.clear(); }

 private:
  std::vector<typename Slots::type> items_;
};

// A binary heap of (item, arrival number): smallest item first, and, unlike Python's
// heapq, equal items in arrival order. Sifting is planned with comparisons only (which may
// throw, leaving the heap as it was) and then carried out with moves that cannot throw.
template <class T, class Compare>
class PriorityStorage {
  static_assert(std::is_invocable_r_v<bool, Compare&, const T&, const T&>,
                "PriorityQueue<T, Compare>: items must be comparable with Compare "
                "(Python raises TypeError for items that cannot be compared)");
  using Slots = SlotOf<T>;

 public:
  explicit PriorityStorage(Compare compare = Compare()) : compare_(std::move(compare)) {}

  template <class U>
  void push(U&& item) {
    // Where the new item will rest, found while the caller still owns it.
    std::size_t hole = heap_.size();
    while (hole > 0 && comes_before(item, next_arrival_, heap_[(hole - 1) / 2]))
      hole = (hole - 1) / 2;
    heap_.reserve(heap_.size() + 1);                              // may throw: unchanged
    Entry entry{Slots::make(std::forward<U>(item)), next_arrival_};  // may throw: unchanged
    ++next_arrival_;
    heap_.push_back(std::move(entry));
    for (std::size_t i = heap_.size() - 1; i > hole; i = (i - 1) / 2)
      std::swap(heap_[i], heap_[(i - 1) / 2]);
  }
  T& front() { return Slots::get(heap_.front().slot); }
  // Plans where the last entry moves once the front leaves.
  void prepare_pop() {
    const std::size_t n = heap_.size() - 1;  // entries left after the pop
    std::size_t hole = 0;
    if (n > 0) {
      Entry& last = heap_[n];
      for (;;) {
        std::size_t child = 2 * hole + 1;
        if (child >= n) break;
        if (child + 1 < n && comes_before(heap_[child + 1], heap_[child])) ++child;
        if (!comes_before(heap_[child], last)) break;
        hole = child;
      }
    }
    planned_hole_ = hole;
  }
  void pop() noexcept {
    const std::size_t n = heap_.size() - 1;
    std::size_t i = 0;
    // Walk down the planned path, lifting each child into its parent's place.
    while (i != planned_hole_) {
      // The next step is the ancestor of planned_hole_ whose parent is i.
      std::size_t child = planned_hole_;
      while ((child - 1) / 2 != i) child = (child - 1) / 2;
      heap_[i] = std::move(heap_[child]);
      i = child;
    }
    if (n > 0 && i != n) heap_[i] = std::move(heap_[n]);
    heap_.pop_back();
  }
  std::size_t size() const { return heap_.size(); }
  void clear() { heap_.clear(); }

 private:
  struct Entry {
    typename Slots::type slot;
    std::uint64_t arrival;
  };
  bool comes_before(const T& item, std::uint64_t arrival, Entry& other) {
    const T& o = Slots::get(other.slot);
    if (compare_(item, o)) return true;
    if (compare_(o, item)) return false;
    return arrival < other.arrival;
  }
  bool comes_before(Entry& a, Entry& b) { return comes_before(Slots::get(a.slot), a.arrival, b); }

  Compare compare_;
  std::vector<Entry> heap_;
  std::uint64_t next_arrival_ = 0;
  std::size_t planned_hole_ = 0;
};

}  // namespace pyconc::queue::detail
