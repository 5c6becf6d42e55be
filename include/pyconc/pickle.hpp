// pyconc::pickle — the one serialization layer: everything that crosses a process boundary
// (a spawned process's arguments, results, queue items, exceptions) goes through here.
//
// Python's pickle.dumps / pickle.loads, on cereal's binary archive. What can cross is decided
// at compile time, as Python's "can't pickle" is at run time: arithmetic types, enums,
// std::string, the standard containers, pair/tuple/optional/variant, and any user type with
// a `template <class Archive> void serialize(Archive& ar) { ar(field1, field2); }` member
// (cereal's convention). Pointers, references to memory and lambdas cannot cross: asking
// for them is a compile error naming the type (the Picklable concept). The bytes carry a
// tag of the type, so loading them as another type is an UnpicklingError, not garbage.
//
// Exceptions cross too: dumps_exception / loads_exception keep the type of a pyconc or
// standard exception (and of any type registered with register_exception); any other type
// arrives as RemoteError carrying the original type name and message.
//
//   std::string bytes = pyconc::pickle::dumps(std::vector<int>{1, 2, 3});
//   auto v = pyconc::pickle::loads<std::vector<int>>(bytes);        // {1, 2, 3}
//   struct Point { int x, y; template <class A> void serialize(A& a) { a(x, y); } };
//   auto p = pyconc::pickle::loads<Point>(pyconc::pickle::dumps(Point{1, 2}));
#pragma once

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/complex.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <concepts>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include "pyconc/detail/type_name.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::pickle {

// Python's pickle.PickleError, PicklingError and UnpicklingError.
PYCONC_DEFINE_ERROR(PickleError, Error);
PYCONC_DEFINE_ERROR(PicklingError, PickleError);
PYCONC_DEFINE_ERROR(UnpicklingError, PickleError);

// An exception from another process whose type is not known here: what() is
// "Type: message", remote_type() the original type name. Python's multiprocessing's
// RemoteError plays the same part.
class RemoteError : public Error {
 public:
  RemoteError(std::string remote_type, const std::string& message)
      : Error(message.empty() ? remote_type : remote_type + ": " + message),
        remote_type_(std::move(remote_type)) {}
  const char* type_name() const noexcept override { return "RemoteError"; }
  const std::string& remote_type() const noexcept { return remote_type_; }

 private:
  std::string remote_type_;
};

// What may cross a process boundary: cereal knows how to save and load it, it holds no
// address (a pointer means nothing in another process), and loads can make one to fill.
template <class T>
concept Picklable = !std::is_pointer_v<T> && !std::is_member_pointer_v<T> &&
                    !std::is_reference_v<T> && std::default_initializable<T> &&
                    cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value &&
                    cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value;

namespace detail {

// cereal writes to a std::ostream; these adapt a std::string (appended to) and a view (read).
class StringSink : public std::streambuf {
 public:
  void target(std::string* out) { out_ = out; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_->append(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) out_->push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string* out_ = nullptr;
};

class ViewSource : public std::streambuf {
 public:
  void view(std::string_view in) {
    char* begin = const_cast<char*>(in.data());  // read only: streambuf's API is not const
    setg(begin, begin, begin + in.size());
  }
};

// Building a std::ostream costs more than pickling an int (locale facets), so each thread
// keeps one stream of each kind and re-points it; a nested dumps/loads (a serialize that
// pickles) gets a fresh one.
template <class Buffer, class Stream>
class ThreadStream {
 public:
  ThreadStream() {
    if (Slot* slot = this_thread_slot(); slot && !slot->busy) {
      slot->busy = true;
      slot_ = slot;
      return;
    }
    own_ = std::make_unique<Slot>();
  }
  ~ThreadStream() {
    if (slot_) slot_->busy = false;
  }
  ThreadStream(const ThreadStream&) = delete;
  ThreadStream& operator=(const ThreadStream&) = delete;
  Buffer& buffer() { return slot().buffer; }
  Stream& stream() {
    slot().stream.clear();
    return slot().stream;
  }

 private:
  struct Slot {
    Buffer buffer;
    Stream stream{&buffer};
    bool busy = false;
  };
  // The thread's slot; null once the thread's thread_locals are destroyed (the main
  // thread's die before atexit handlers run, and those may still pickle).
  static Slot* this_thread_slot() {
    thread_local bool gone = false;  // trivially destructible: readable to the very end
    struct Owned {
      Slot slot;
      bool* gone;
      ~Owned() { *gone = true; }
    };
    if (gone) return nullptr;
    thread_local Owned owned{{}, &gone};
    return &owned.slot;
  }
  Slot& slot() { return slot_ ? *slot_ : *own_; }
  Slot* slot_ = nullptr;
  std::unique_ptr<Slot> own_;
};
using OutputStream = ThreadStream<StringSink, std::ostream>;
using InputStream = ThreadStream<ViewSource, std::istream>;

// A tag of T's type (FNV-1a of its mangled name): the same in every process of the program,
// and in other programs built by the same compiler.
template <class T>
std::uint64_t type_tag() {
  static const std::uint64_t tag = [] {
    std::uint64_t hash = 14695981039346656037ull;
    for (const char* p = typeid(T).name(); *p; ++p) hash = (hash ^ static_cast<unsigned char>(*p)) * 1099511628211ull;
    return hash;
  }();
  return tag;
}

// Numbers and enums skip the archive: cereal's binary archive writes the tag and the value
// as their raw bytes, so writing them directly gives the same bytes, and a queue of ints no
// longer spends most of its time building and destroying archives.
template <class T>
inline constexpr bool kRawPickle = std::is_arithmetic_v<T> || std::is_enum_v<T>;

[[noreturn]] void throw_pickling_error(const char* type, const std::exception& cause);
[[noreturn]] void throw_unpickling_error(const char* type, const char* what);

}  // namespace detail

// Python's pickle.dumps(obj): appends obj's bytes to `out` (or returns them).
template <class T>
void dump_into(const T& value, std::string& out) {
  static_assert(Picklable<T>,
                "pyconc::pickle: this type cannot cross a process boundary (Python: \"can't pickle\"). "
                "Give it a `template <class Archive> void serialize(Archive&)` member listing its fields, "
                "or pass plain values, strings and standard containers instead of pointers or lambdas.");
  if constexpr (detail::kRawPickle<T>) {
    const std::uint64_t tag = detail::type_tag<T>();
    out.append(reinterpret_cast<const char*>(&tag), sizeof tag);
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
    return;
  }
  detail::OutputStream stream;
  stream.buffer().target(&out);
  try {
    cereal::BinaryOutputArchive archive(stream.stream());
    archive(detail::type_tag<T>(), value);
  } catch (const std::exception& e) {
    detail::throw_pickling_error(typeid(T).name(), e);
  }
}
template <class T>
std::string dumps(const T& value) {
  std::string out;
  dump_into(value, out);
  return out;
}

// Python's pickle.loads(data) → T. Bytes of another type, or cut short: UnpicklingError. A
// pyconc error raised by T's own load (a SharedMemory whose block is gone) passes unchanged.
template <class T>
T loads(std::string_view bytes) {
  static_assert(Picklable<T>, "pyconc::pickle: this type cannot cross a process boundary (see dumps)");
  if constexpr (detail::kRawPickle<T>) {
    std::uint64_t tag = 0;
    T value{};
    if (bytes.size() < sizeof tag + sizeof value)
      detail::throw_unpickling_error(typeid(T).name(), "the bytes are cut short");
    std::memcpy(&tag, bytes.data(), sizeof tag);
    if (tag != detail::type_tag<T>()) detail::throw_unpickling_error(typeid(T).name(), "the bytes hold another type");
    std::memcpy(&value, bytes.data() + sizeof tag, sizeof value);
    return value;
  }
  detail::InputStream stream;
  stream.buffer().view(bytes);
  T value{};
  try {
    cereal::BinaryInputArchive archive(stream.stream());
    std::uint64_t tag = 0;
    archive(tag);
    if (tag != detail::type_tag<T>()) detail::throw_unpickling_error(typeid(T).name(), "the bytes hold another type");
    archive(value);
  } catch (const Error&) {
    throw;  // UnpicklingError, or a type's own load raising (FileNotFoundError...), as Python's
  } catch (const std::exception& e) {
    detail::throw_unpickling_error(typeid(T).name(), e.what());
  }
  return value;
}

// Exceptions across processes. dumps_exception records the exception's Python-style type
// name ("ValueError", "Full", "std::out_of_range") and message; loads_exception rebuilds it
// as the same type when that type is known here, else as RemoteError.
std::string dumps_exception(const std::exception_ptr& error);
std::exception_ptr loads_exception(std::string_view bytes);

// Makes E cross with its type: E must be constructible from a message (std::string).
// Its name is what dumps_exception records: type_name() for a pyconc::Error, the C++ type
// name otherwise. Thread-safe; registering a name twice keeps the first.
void register_exception_factory(std::string type_name,
                                std::function<std::exception_ptr(const std::string&)> make);
template <class E>
void register_exception() {
  std::string name;
  if constexpr (std::is_base_of_v<Error, E>) {
    name = E(std::string()).type_name();
  } else {
    name = pyconc::detail::demangle(typeid(E).name());
  }
  register_exception_factory(std::move(name), [](const std::string& message) {
    return std::make_exception_ptr(E(message));
  });
}

}  // namespace pyconc::pickle
