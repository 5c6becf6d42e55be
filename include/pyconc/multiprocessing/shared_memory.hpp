// pyconc::multiprocessing::shared_memory::SharedMemory — Python's
// multiprocessing.shared_memory.SharedMemory: a named block of memory (POSIX shm_open) that
// any process can attach to by name.
//
// SharedMemory(std::nullopt, true, n) creates a block of n bytes with a random name
// ("psm_…"); SharedMemory("name") attaches to an existing one (its real size is reported; the
// size argument is ignored). buf() is the block's bytes: writes through one handle are seen
// through every other, in any process. close() releases this handle only; unlink() removes
// the name (once, from one process), and mappings still open keep working. A SharedMemory
// pickles by name, so passing it to a Process (any start method) attaches the child to it.
//
// Leak tracking: the process that creates a block tracks it (track=false opts out) and, if
// it exits normally without unlink(), unlinks it then, with Python's warning "There appear
// to be N leaked shared_memory objects to clean up at shutdown". Python runs this in a
// tracker process shared by a family of processes, which also cleans up after a creator
// killed by a signal, and which makes a process that only attaches unlink the block too when
// unrelated to the creator (SHM-06); here only the creator's normal exit cleans up.
// Differences: close() cannot see views of buf() still alive (C++ spans are not counted), so
// it never raises BufferError; using buf() after close() raises ValueError.
//
//   namespace shm = pyconc::multiprocessing::shared_memory;
//   shm::SharedMemory block(std::nullopt, true, 1024);      // create=True, size=1024
//   block.buf()[0] = std::byte{42};
//   shm::SharedMemory other(block.name());                  // attach, here or in a child
//   other.close(); block.close(); block.unlink();
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace pyconc::multiprocessing::shared_memory {

namespace detail {
struct Mapping;
}

class SharedMemory {
 public:
  // Not attached to any block (what pickle::loads fills in): every use raises ValueError.
  SharedMemory() = default;
  // Python's SharedMemory(name=None, create=False, size=0, track=True). With create, size
  // must be positive; without it, name is required (ValueError otherwise). A name that
  // exists (create) is FileExistsError; one that does not (attach) is FileNotFoundError.
  explicit SharedMemory(std::optional<std::string> name, bool create = false, long long size = 0, bool track = true);

  // Python's name (without the leading '/'), and the block's size in bytes.
  const std::string& name() const { return name_; }
  std::size_t size() const { return size_; }
  // The block's bytes (ValueError after close()).
  std::span<std::byte> buf() const;

  // Releases this handle's mapping (copies of a handle share it, as Python references do);
  // idempotent.
  void close();
  // Removes the block's name; FileNotFoundError if it is already gone.
  void unlink();

  template <class Archive>
  void save(Archive& archive) const {
    archive(name_);
  }
  template <class Archive>
  void load(Archive& archive) {
    std::string name;
    archive(name);
    *this = SharedMemory(name);
  }

 private:
  std::string name_;
  std::size_t size_ = 0;
  std::shared_ptr<detail::Mapping> mapping_;  // shared by copies; empty once closed
};

// Python's bytes, told apart from str (std::string) in a ShareableList.
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// Python's ShareableList: a fixed-length list of None, bool, int (64-bit), float, str or
// bytes in a SharedMemory block, shared by name. Each slot's size is fixed at creation (a
// str or bytes slot rounded up to 8 bytes): a longer value is a ValueError ("exceeds
// available storage"), an index past the end an IndexError; there is no append. Trailing
// NUL bytes of a str or bytes are lost, as in Python. A slot may take a value of another
// type that fits.
//
//   shm::ShareableList list({std::int64_t{1}, 2.5, std::string("héllo"), std::monostate{}});
//   shm::ShareableList same(list.shm().name());             // attach, here or in a child
//   same.set(0, std::int64_t{42});                          // list[0] == 42 everywhere
class ShareableList {
 public:
  using Item = std::variant<std::monostate, bool, std::int64_t, double, std::string, Bytes>;

  ShareableList() = default;  // not attached (what pickle::loads fills in)
  explicit ShareableList(const std::vector<Item>& sequence, std::optional<std::string> name = std::nullopt);
  explicit ShareableList(const std::string& name);

  std::size_t size() const;  // len()
  Item operator[](long long index) const;  // negative indexes count from the end
  void set(long long index, const Item& value);
  std::size_t count(const Item& value) const;
  // The first position of `value`; ValueError if it is not there.
  std::size_t index(const Item& value) const;
  SharedMemory& shm() { return shm_; }
  const SharedMemory& shm() const { return shm_; }

  template <class Archive>
  void save(Archive& archive) const {
    archive(shm_.name());
  }
  template <class Archive>
  void load(Archive& archive) {
    std::string name;
    archive(name);
    *this = ShareableList(name);
  }

 private:
  struct Slot;
  Slot* slots() const;
  std::size_t checked(long long index) const;
  SharedMemory shm_;
};

}  // namespace pyconc::multiprocessing::shared_memory
