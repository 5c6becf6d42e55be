// Exceptions across processes: the record that crosses, and the table of types that are
// rebuilt as themselves on the other side.
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>

#include "detail/built_at_load.hpp"
#include "pyconc/detail/type_name.hpp"
#include "pyconc/futures/errors.hpp"
#include "pyconc/os.hpp"
#include "pyconc/pickle.hpp"
#include "pyconc/queue/errors.hpp"
#include "pyconc/threading/barrier_cycle.hpp"

namespace pyconc::pickle {

namespace {

using Factory = std::function<std::exception_ptr(const std::string&)>;

// What crosses: the type's name, its message, and a SystemExit's code.
struct ExceptionRecord {
  std::string type;
  std::string message;
  int exit_code = 0;
  bool has_message = true;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(type, message, exit_code, has_message);
  }
};

template <class E>
void add(std::unordered_map<std::string, Factory>& table, const std::string& name) {
  table.emplace(name, [](const std::string& message) { return std::make_exception_ptr(E(message)); });
}

struct FactoryTable {
  std::mutex lock;
  std::unordered_map<std::string, Factory> factories;

  FactoryTable() {
    add<RuntimeError>(factories, "RuntimeError");
    add<ValueError>(factories, "ValueError");
    add<TypeError>(factories, "TypeError");
    add<OverflowError>(factories, "OverflowError");
    add<LookupError>(factories, "LookupError");
    add<IndexError>(factories, "IndexError");
    add<KeyError>(factories, "KeyError");
    add<AttributeError>(factories, "AttributeError");
    add<AssertionError>(factories, "AssertionError");
    add<OSError>(factories, "OSError");
    add<EOFError>(factories, "EOFError");
    add<FileExistsError>(factories, "FileExistsError");
    add<FileNotFoundError>(factories, "FileNotFoundError");
    add<PermissionError>(factories, "PermissionError");
    add<ProcessLookupError>(factories, "ProcessLookupError");
    add<ConnectionError>(factories, "ConnectionError");
    add<BrokenPipeError>(factories, "BrokenPipeError");
    add<ConnectionAbortedError>(factories, "ConnectionAbortedError");
    add<ConnectionRefusedError>(factories, "ConnectionRefusedError");
    add<ConnectionResetError>(factories, "ConnectionResetError");
    add<threading::BrokenBarrierError>(factories, "BrokenBarrierError");
    add<TimeoutError>(factories, "TimeoutError");
    add<PickleError>(factories, "PickleError");
    add<PicklingError>(factories, "PicklingError");
    add<UnpicklingError>(factories, "UnpicklingError");
    add<queue::Full>(factories, "Full");
    add<queue::Empty>(factories, "Empty");
    add<queue::ShutDown>(factories, "ShutDown");
    add<futures::CancelledError>(factories, "CancelledError");
    add<futures::InvalidStateError>(factories, "InvalidStateError");
    add<futures::BrokenExecutor>(factories, "BrokenExecutor");
    add<futures::BrokenThreadPool>(factories, "BrokenThreadPool");
    add<futures::BrokenProcessPool>(factories, "BrokenProcessPool");
    add<std::runtime_error>(factories, "std::runtime_error");
    add<std::logic_error>(factories, "std::logic_error");
    add<std::invalid_argument>(factories, "std::invalid_argument");
    add<std::out_of_range>(factories, "std::out_of_range");
    add<std::length_error>(factories, "std::length_error");
    add<std::domain_error>(factories, "std::domain_error");
    add<std::range_error>(factories, "std::range_error");
    add<std::overflow_error>(factories, "std::overflow_error");
    add<std::underflow_error>(factories, "std::underflow_error");
    factories.emplace("std::bad_alloc", [](const std::string&) { return std::make_exception_ptr(std::bad_alloc()); });
  }

  static FactoryTable& instance() {
    static FactoryTable* table = [] {
      auto* created = new FactoryTable;  // never destroyed: children may load after main returns
      pyconc::os::detail::fork_protect(created->lock);
      return created;
    }();
    return *table;
  }

  Factory find(const std::string& type) {
    std::scoped_lock hold(lock);
    auto it = factories.find(type);
    return it == factories.end() ? Factory() : it->second;
  }
};
PYCONC_BUILD_AT_LOAD(FactoryTable::instance());

ExceptionRecord record_of(const std::exception_ptr& error) {
  ExceptionRecord record;
  try {
    std::rethrow_exception(error);
  } catch (const SystemExit& e) {
    record = {"SystemExit", e.what(), e.exit_code(), e.has_message()};
  } catch (...) {
    record.type = pyconc::detail::current_exception_type_name();
    record.message = pyconc::detail::exception_message(std::current_exception());
  }
  return record;
}

}  // namespace

void detail::throw_pickling_error(const char* type, const std::exception& cause) {
  throw PicklingError("cannot pickle '" + pyconc::detail::demangle(type) + "' object: " + cause.what());
}

void detail::throw_unpickling_error(const char* type, const char* what) {
  throw UnpicklingError("cannot unpickle '" + pyconc::detail::demangle(type) + "': " + what);
}

std::string dumps_exception(const std::exception_ptr& error) { return dumps(record_of(error)); }

std::exception_ptr loads_exception(std::string_view bytes) {
  const auto record = loads<ExceptionRecord>(bytes);
  if (record.type == "SystemExit")
    return std::make_exception_ptr(record.has_message ? SystemExit(record.message) : SystemExit(record.exit_code));
  if (Factory make = FactoryTable::instance().find(record.type)) return make(record.message);
  return std::make_exception_ptr(RemoteError(record.type, record.message));
}

void register_exception_factory(std::string type_name, Factory make) {
  FactoryTable& table = FactoryTable::instance();
  std::scoped_lock hold(table.lock);
  table.factories.emplace(std::move(type_name), std::move(make));
}

}  // namespace pyconc::pickle
