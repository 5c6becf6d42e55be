// StreamWriter, after CPython 3.13's asyncio/streams.py: a handle over its transport.
#include "fd_transport.hpp"

namespace pyconc::asyncio {

StreamWriter::StreamWriter(std::shared_ptr<detail::FdTransport> transport, std::optional<StreamReader> reader)
    : transport_(std::move(transport)), reader_(std::move(reader)) {
  if (!transport_) throw ValueError("StreamWriter needs a transport");
}

void StreamWriter::write(std::string_view data) const { transport_->write(data); }

void StreamWriter::writelines(const std::vector<std::string>& data) const {
  for (const auto& part : data) transport_->write(part);
}

bool StreamWriter::can_write_eof() const { return transport_->can_write_eof(); }
void StreamWriter::write_eof() const { transport_->write_eof(); }
void StreamWriter::close() const { transport_->close(); }
bool StreamWriter::is_closing() const { return transport_->is_closing(); }
Transport& StreamWriter::transport() const { return *transport_; }

std::any StreamWriter::get_extra_info(std::string_view name, std::any fallback) const {
  return transport_->get_extra_info(name, std::move(fallback));
}

namespace {

// A free coroutine: its parameters (owning handles) live in its frame, whatever happens to
// the StreamWriter it was called on.
Coroutine<void> drain_writer(std::shared_ptr<detail::FdTransport> transport, std::optional<StreamReader> reader) {
  if (reader) {
    if (auto error = reader->exception()) std::rethrow_exception(error);
  }
  // Python: a closing transport is given one iteration to report the connection lost, so
  // that drain after close() raises instead of returning.
  if (transport->is_closing()) co_await sleep(std::chrono::duration<double>(0));
  if (auto waiter = transport->drain_waiter()) co_await *waiter;
}

}  // namespace

Coroutine<void> StreamWriter::drain() const { return drain_writer(transport_, reader_); }
Coroutine<void> StreamWriter::wait_closed() const { return transport_->wait_closed(transport_); }

}  // namespace pyconc::asyncio
