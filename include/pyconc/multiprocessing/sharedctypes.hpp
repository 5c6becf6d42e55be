// Value, Array, RawValue, RawArray — Python's multiprocessing.sharedctypes: plain data in
// shared memory, seen by every process it is given to.
//
// Python names the C type with a typecode ('i', 'd'); here it is the template argument, any
// trivially copyable type. Value and Array come with a lock (an RLock of their own, or the
// Lock/RLock given) that get_lock() returns and every access through value()/set_value(),
// [] and set() takes; RawValue and RawArray have none. As in Python, `v.set_value(v.value()
// + 1)` is two steps: hold get_lock() around read-modify-write.
//
//   pyconc::multiprocessing::Value<int> counter(0);          // Value('i', 0)
//   void increment(pyconc::multiprocessing::Value<int> v) {
//     std::scoped_lock hold(v.get_lock());                    // with v.get_lock():
//     v.set_value(v.value() + 1);                             //     v.value += 1
//   }
#pragma once

#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
#include <vector>

#include "pyconc/multiprocessing/shared_block.hpp"
#include "pyconc/multiprocessing/synchronize.hpp"

namespace pyconc::multiprocessing {

template <class T>
class RawArray {
  static_assert(std::is_trivially_copyable_v<T>, "shared memory holds trivially copyable types only");

 public:
  RawArray() : RawArray(std::size_t{0}) {}
  // Python's RawArray(typecode, n): zero-filled.
  explicit RawArray(std::size_t n) : block_(detail::SharedBlock::create(std::max<std::size_t>(1, n) * sizeof(T))), size_(n) {}
  RawArray(std::initializer_list<T> values) : RawArray(std::vector<T>(values)) {}
  explicit RawArray(const std::vector<T>& values) : RawArray(values.size()) {
    if (!values.empty()) std::memcpy(data(), values.data(), values.size() * sizeof(T));
  }

  std::size_t size() const { return size_; }
  T* data() const { return static_cast<T*>(block_->data()); }
  std::span<T> get_obj() const { return {data(), size_}; }

  template <class Archive>
  void save(Archive& archive) const {
    detail::SharedBlock::save(archive, block_);
    archive(static_cast<std::uint64_t>(size_));
  }
  template <class Archive>
  void load(Archive& archive) {
    block_ = detail::SharedBlock::load(archive);
    std::uint64_t n = 0;
    archive(n);
    size_ = static_cast<std::size_t>(n);
  }

 private:
  std::shared_ptr<detail::SharedBlock> block_;
  std::size_t size_;
};

template <class T>
class RawValue {
 public:
  explicit RawValue(T initial = T{}) : cell_(1) { cell_.data()[0] = initial; }
  T value() const { return cell_.data()[0]; }
  void set_value(T v) { cell_.data()[0] = v; }
  T& get_obj() const { return cell_.data()[0]; }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(cell_);
  }

 private:
  RawArray<T> cell_;
};

// Value(typecode, init) / Value(typecode, init, lock=...): every access takes the lock.
template <class T>
class Value {
 public:
  explicit Value(T initial = T{}) : Value(initial, RLock()) {}
  Value(T initial, SemLock lock) : raw_(initial), lock_(std::move(lock)) {}
  T value() const {
    std::scoped_lock hold(lock_);
    return raw_.value();
  }
  void set_value(T v) {
    std::scoped_lock hold(lock_);
    raw_.set_value(v);
  }
  SemLock& get_lock() const { return lock_; }
  T& get_obj() const { return raw_.get_obj(); }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(raw_, lock_);
  }

 private:
  RawValue<T> raw_;
  mutable SemLock lock_ = RLock();
};

// Array(typecode, n or values) with a lock; [] reads, set() writes, slice()/set_slice() too.
template <class T>
class Array {
 public:
  Array() : Array(std::size_t{0}) {}
  explicit Array(std::size_t n) : Array(RawArray<T>(n), RLock()) {}
  Array(std::initializer_list<T> values) : Array(RawArray<T>(values), RLock()) {}
  explicit Array(const std::vector<T>& values) : Array(RawArray<T>(values), RLock()) {}
  Array(RawArray<T> raw, SemLock lock) : raw_(std::move(raw)), lock_(std::move(lock)) {}

  std::size_t size() const { return raw_.size(); }
  T operator[](std::size_t i) const {
    check(i);
    std::scoped_lock hold(lock_);
    return raw_.data()[i];
  }
  void set(std::size_t i, T v) {
    check(i);
    std::scoped_lock hold(lock_);
    raw_.data()[i] = v;
  }
  std::vector<T> slice(std::size_t begin, std::size_t end) const {
    end = std::min(end, size());
    std::scoped_lock hold(lock_);
    return begin >= end ? std::vector<T>{} : std::vector<T>(raw_.data() + begin, raw_.data() + end);
  }
  // Python's a[begin:begin+len(values)] = values; the slice must fit.
  void set_slice(std::size_t begin, std::span<const T> values) {
    if (begin > size() || values.size() > size() - begin)
      throw ValueError("can only assign a sequence of the same size");
    std::scoped_lock hold(lock_);
    std::copy(values.begin(), values.end(), raw_.data() + begin);
  }
  std::vector<T> to_vector() const { return slice(0, size()); }
  SemLock& get_lock() const { return lock_; }
  std::span<T> get_obj() const { return raw_.get_obj(); }

  template <class Archive>
  void serialize(Archive& archive) {
    archive(raw_, lock_);
  }

 private:
  void check(std::size_t i) const {
    if (i >= size()) throw IndexError("array index out of range");
  }
  RawArray<T> raw_;
  mutable SemLock lock_ = RLock();
};

}  // namespace pyconc::multiprocessing
