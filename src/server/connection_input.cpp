// ConnectionInput (connection_input.hpp).
#include "connection_input.hpp"

namespace pyconc::server::detail {

namespace {
constexpr std::size_t read_size = 64 * 1024;
}

void ConnectionInput::parse_buffered() {
  offset += parser->feed(std::string_view(buffer).substr(offset));
}

asyncio::Coroutine<bool> ConnectionInput::receive() {
  if (offset == buffer.size()) {
    buffer.clear();
    offset = 0;
  } else if (offset > 0) {
    buffer.erase(0, offset);
    offset = 0;
  }
  std::string more = co_await reader.read(read_size);
  if (more.empty()) co_return false;
  if (buffer.empty()) {
    buffer = std::move(more);
  } else {
    buffer += more;
  }
  co_return true;
}

}  // namespace pyconc::server::detail
