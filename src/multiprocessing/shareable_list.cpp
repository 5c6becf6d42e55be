// Python's ShareableList: a header (the length), a table of fixed slots, then the bytes of
// the str and bytes values, in one SharedMemory block.
#include <cstring>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/shared_memory.hpp"

namespace pyconc::multiprocessing::shared_memory {

// One slot: what it holds now, how many bytes it may hold (fixed), and where they are.
struct ShareableList::Slot {
  std::uint32_t kind;      // the variant's index
  std::uint32_t capacity;  // bytes for str / bytes (a multiple of 8); 8 for the others
  std::uint64_t offset;    // from the start of the block
  std::uint64_t length;    // bytes in use (str / bytes)
  union {
    std::int64_t integer;
    double real;
    bool flag;
  } scalar;
};

namespace {

constexpr std::size_t kAlignment = 8;
constexpr std::size_t kHeader = 8;  // the length, as a uint64

std::size_t text_of(const ShareableList::Item& item, std::string_view& text) {
  if (auto* s = std::get_if<std::string>(&item)) text = *s;
  else if (auto* b = std::get_if<Bytes>(&item)) text = b->data;
  else return 0;
  return text.size();
}

std::size_t capacity_for(const ShareableList::Item& item) {
  std::string_view text;
  if (item.index() == 4 || item.index() == 5) {
    const std::size_t n = text_of(item, text);
    return std::max<std::size_t>(kAlignment, (n + kAlignment - 1) / kAlignment * kAlignment);
  }
  return kAlignment;
}

const char* type_word(std::size_t kind) { return kind == 5 ? "bytes" : "str"; }

}  // namespace

ShareableList::ShareableList(const std::vector<Item>& sequence, std::optional<std::string> name) {
  std::size_t data = 0;
  for (const Item& item : sequence) data += capacity_for(item);
  const std::size_t table = sequence.size() * sizeof(Slot);
  shm_ = SharedMemory(std::move(name), true, static_cast<long long>(kHeader + table + data));
  std::byte* base = shm_.buf().data();
  const std::uint64_t length = sequence.size();
  std::memcpy(base, &length, sizeof length);
  std::uint64_t offset = kHeader + table;
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    Slot& slot = slots()[i];
    slot.capacity = static_cast<std::uint32_t>(capacity_for(sequence[i]));
    slot.offset = offset;
    offset += slot.capacity;
    set(static_cast<long long>(i), sequence[i]);
  }
}

ShareableList::ShareableList(const std::string& name) : shm_(name) {}

ShareableList::Slot* ShareableList::slots() const {
  return reinterpret_cast<Slot*>(shm_.buf().data() + kHeader);
}

std::size_t ShareableList::size() const {
  std::uint64_t length = 0;
  std::memcpy(&length, shm_.buf().data(), sizeof length);
  return length;
}

std::size_t ShareableList::checked(long long index) const {
  const auto n = static_cast<long long>(size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) throw IndexError("index out of range");
  return static_cast<std::size_t>(index);
}

ShareableList::Item ShareableList::operator[](long long index) const {
  const Slot& slot = slots()[checked(index)];
  switch (slot.kind) {
    case 1:
      return slot.scalar.flag;
    case 2:
      return slot.scalar.integer;
    case 3:
      return slot.scalar.real;
    case 4:
    case 5: {
      std::string text(reinterpret_cast<const char*>(shm_.buf().data() + slot.offset), slot.length);
      while (!text.empty() && text.back() == '\0') text.pop_back();  // Python loses them too
      if (slot.kind == 4) return text;
      return Bytes{std::move(text)};
    }
    default:
      return std::monostate{};
  }
}

void ShareableList::set(long long index, const Item& value) {
  Slot& slot = slots()[checked(index)];
  std::string_view text;
  const std::size_t n = text_of(value, text);
  if ((value.index() == 4 || value.index() == 5) && n > slot.capacity)
    throw ValueError(std::string("bytes/str item exceeds available storage (") + type_word(value.index()) + " of " +
                     std::to_string(n) + " bytes, slot of " + std::to_string(slot.capacity) + ")");
  if (auto* b = std::get_if<bool>(&value)) slot.scalar.flag = *b;
  if (auto* i = std::get_if<std::int64_t>(&value)) slot.scalar.integer = *i;
  if (auto* d = std::get_if<double>(&value)) slot.scalar.real = *d;
  if (n > 0) std::memcpy(shm_.buf().data() + slot.offset, text.data(), n);
  slot.length = n;
  slot.kind = static_cast<std::uint32_t>(value.index());
}

std::size_t ShareableList::count(const Item& value) const {
  std::size_t found = 0;
  for (std::size_t i = 0; i < size(); ++i) found += (*this)[static_cast<long long>(i)] == value;
  return found;
}

std::size_t ShareableList::index(const Item& value) const {
  for (std::size_t i = 0; i < size(); ++i)
    if ((*this)[static_cast<long long>(i)] == value) return i;
  throw ValueError("ShareableList.index(x): x not in list");
}

}  // namespace pyconc::multiprocessing::shared_memory
