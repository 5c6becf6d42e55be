// Internal: what a manager's client and server say to each other, and the client's half of
// the reference counting that keeps a managed object alive while anything refers to it.
//
// A request names an object by id and a method by name (Python's dispatch by name: a client
// program and a remote server program need not be the same binary). Each argument crosses
// pickled on its own, so the server can keep values it never decodes (a dict's keys and
// values are bytes to it) and decode the scalars it needs (an index, a timeout).
//
// References: every live proxy owns one reference to its object in the server. A pickled
// proxy carries one too: the process that unpickles it adopts that reference. When a proxy
// is pickled into an argument of a call to its own manager, the reference is not taken by a
// separate round trip: the argument lists the ids it holds (RefCollector) and the server
// takes them when the request arrives, while the caller's proxies are still alive. A value
// the server keeps (a dict item holding a proxy) holds its objects itself; handing it back
// out gives the receiving proxy a new reference.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/multiprocessing/listener.hpp"
#include "pyconc/pickle.hpp"

namespace pyconc::multiprocessing::managers {

using connection::Address;

// Python's managers.Token: which object, of which registered type, in which server.
struct Token {
  std::string type_id;
  Address address;
  std::uint64_t id = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(type_id, address, id);
  }
};
std::string repr(const Token& token);

}  // namespace pyconc::multiprocessing::managers

namespace pyconc::multiprocessing::managers::detail {

using ObjectId = std::uint64_t;

// One argument or result value: its pickled bytes and the ids of the manager's own objects
// that proxies inside it refer to.
struct Argument {
  std::string bytes;
  std::vector<ObjectId> refs;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(bytes, refs);
  }
};

enum class RequestKind : std::uint8_t { call, create, incref, decref, number_of_objects };

struct Request {
  RequestKind kind = RequestKind::call;
  ObjectId id = 0;                 // call: the object
  std::string name;                // call: the method; create: the type id
  std::vector<Argument> args;      // call, create
  std::vector<ObjectId> ids;       // incref, decref
  template <class Archive>
  void serialize(Archive& archive) {
    archive(kind, id, name, args, ids);
  }
};

// ok: `values` are the results (each pickled on its own), `id` a created object's.
// raised: the method raised; `error` is the exception (pickle::dumps_exception), re-raised
// with its type. failed: the server machinery failed (no such object, a method that is not
// exposed); `error` is its text and `error_type` the Python type it stands for, raised as
// RemoteError.
enum class ReplyKind : std::uint8_t { ok, raised, failed };

struct Reply {
  ReplyKind kind = ReplyKind::ok;
  std::vector<std::string> values;
  ObjectId id = 0;
  std::string error;
  std::string error_type;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(kind, values, id, error, error_type);
  }
};

// Sends `request` over this thread's connection to the server at `address` and returns its
// ok reply; a raised or failed reply is thrown. A connection that breaks is dropped (the
// next call connects again) and reported as an OSError: ConnectionRefusedError or
// FileNotFoundError when the server is gone, BrokenPipeError or ConnectionResetError when
// it went during the call.
Reply request(const Address& address, const std::string& authkey, const Request& request);

// A proxy's side of its object: the token and the reference it owns, given back when the
// last handle goes (or at the process's exit).
class ProxyState {
 public:
  // Takes over one reference the server already counted for this process.
  ProxyState(Token token, std::string authkey);
  ~ProxyState();
  ProxyState(const ProxyState&) = delete;
  ProxyState& operator=(const ProxyState&) = delete;

  const Token& token() const { return token_; }
  const std::string& authkey() const { return authkey_; }
  Reply call(const std::string& method, const std::vector<Argument>& args) const;
  // Gives the reference back now (the process is ending); the destructor then does nothing.
  void release_reference();
  // Another reference for a copy of this proxy that is leaving this process pickled.
  void add_reference() const;

 private:
  Token token_;
  std::string authkey_;
  bool owns_reference_ = true;
};

// The token a proxy pickles as, with the reference it carries (see the top of this file).
Token share(const std::shared_ptr<ProxyState>& state);
// The proxy state a token unpickles to, adopting the reference it carries; null for an
// empty token. Its authkey is this process's (Python: current_process().authkey).
std::shared_ptr<ProxyState> adopt(Token token);

// While alive on a thread, proxies of the manager at `address` pickled on it record their
// ids here instead of taking a reference by a round trip.
class RefCollector {
 public:
  explicit RefCollector(const Address& address);
  ~RefCollector();
  RefCollector(const RefCollector&) = delete;
  RefCollector& operator=(const RefCollector&) = delete;
  static RefCollector* current();
  const Address& address() const { return address_; }
  std::vector<ObjectId> take() { return std::move(refs_); }
  void record(ObjectId id) { refs_.push_back(id); }

 private:
  const Address& address_;
  std::vector<ObjectId> refs_;
  RefCollector* outer_;
};

// `value` pickled as an argument of a call to the manager at `address`.
template <class T>
Argument argument(const Address& address, const T& value) {
  RefCollector collector(address);
  Argument a;
  a.bytes = pickle::dumps(value);
  a.refs = collector.take();
  return a;
}

}  // namespace pyconc::multiprocessing::managers::detail
