// The bytes of one HTTP connection as its parser asks for them: what was read but not parsed
// yet, and more from the socket when that runs out, under the watch's deadline. The
// connection's coroutine and a streamed request body both read through it; the body's reader
// may outlive the connection (a handler's thread keeps it), hence the shared ownership and
// `closed`, after which the deadline (the connection's watch) is gone.
#pragma once

#include <memory>
#include <string>

#include "pyconc/asyncio/streams.hpp"
#include "request_parser.hpp"

namespace pyconc::server::detail {

struct ConnectionInput {
  ConnectionInput(asyncio::StreamReader reader_, double& deadline_) : reader(std::move(reader_)), deadline(deadline_) {}

  asyncio::StreamReader reader;
  double& deadline;  // the connection's watch: the loop time it is dropped at unless more comes
  std::unique_ptr<RequestParser> parser;  // the request being read
  std::string buffer;
  std::size_t offset = 0;  // buffer[offset..] is not parsed yet
  bool closed = false;

  bool has_unparsed() const { return offset < buffer.size(); }
  // Offers the unparsed bytes to the parser; what it cannot use yet stays for later.
  void parse_buffered();
  // Reads more from the socket into the buffer; false when the peer has closed.
  asyncio::Coroutine<bool> receive();
};

}  // namespace pyconc::server::detail
