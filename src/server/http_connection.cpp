// serve_http (http_connection.hpp), after Gunicorn's gthread worker and Uvicorn's
// httptools protocol: the loop owns the connection; only the handler may run elsewhere.
#include "http_connection.hpp"

#include "body_stream.hpp"
#include "connection_input.hpp"
#include "pyconc/asyncio/threads.hpp"
#include "response_writer.hpp"
#include "server_log.hpp"

namespace pyconc::server::detail {

namespace {

std::string peer_of(const asyncio::StreamWriter& writer) {
  auto address = writer.get_extra_info("peername");
  if (const auto* peer = std::any_cast<asyncio::SocketAddress>(&address)) {
    return peer->is_unix() ? peer->path : peer->host + ":" + std::to_string(peer->port);
  }
  return {};
}

std::string host_of(const std::string& peer) {
  const std::size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

AccessRecord record_of(const Request& request, const std::string& peer) {
  AccessRecord record;
  record.peer_host = host_of(peer);
  record.method = request.method;
  record.target = request.target;
  record.path = request.path;
  record.query = request.query;
  record.http_version = request.http_version;
  record.referer = std::string(request.headers.get("Referer").value_or(""));
  record.user_agent = std::string(request.headers.get("User-Agent").value_or(""));
  return record;
}

// Removes the connection from the worker's watch list however the coroutine ends.
struct Watched {
  std::shared_ptr<WorkerContext> context;
  std::list<ConnectionWatch>::iterator entry;
  ~Watched() { context->unwatch(entry); }
};

// The application's response, by the worker kind's rule: sync runs it here (the loop waits,
// as Gunicorn's sync worker does), gthread on its threads, asyncio as a coroutine.
asyncio::Coroutine<Response> run_handler(const std::shared_ptr<WorkerContext>& context, Request& request) {
  switch (context->kind) {
    case WorkerKind::sync:
      co_return context->application.handler(request);
    case WorkerKind::gthread: {
      // The thread gets its own reference: it may outlive this coroutine if the worker stops.
      auto shared = std::make_shared<Request>(std::move(request));
      auto call = [shared, context] { return context->application.handler(*shared); };
      Response response;
      std::exception_ptr failure;
      try {
        response = co_await asyncio::get_running_loop().run_in_executor(&*context->pool, std::move(call));
      } catch (const asyncio::CancelledError&) {
        throw;  // the thread may still be using the request: leave it there
      } catch (...) {
        failure = std::current_exception();
      }
      request = std::move(*shared);  // the thread is done with it: the caller logs from it
      if (failure) std::rethrow_exception(failure);
      co_return response;
    }
    case WorkerKind::asyncio:
      co_return co_await context->application.async_handler(request);
  }
  co_return Response{};
}

// The pieces of a streamed body, each written as it comes; false when the stream failed.
asyncio::Coroutine<bool> send_stream(const std::shared_ptr<WorkerContext>& context, const Response& response,
                                     const asyncio::StreamWriter& writer, bool chunked, std::size_t& sent) {
  std::string out;
  for (;;) {
    std::optional<std::string> piece;
    try {
      if (response.async_stream) {
        auto next = response.async_stream();
        piece = co_await std::move(next);
      } else if (context->kind == WorkerKind::gthread) {
        auto next = response.stream;
        piece = co_await asyncio::get_running_loop().run_in_executor(&*context->pool, std::move(next));
      } else {
        piece = response.stream();
      }
    } catch (const asyncio::CancelledError&) {
      throw;
    } catch (...) {
      log_error("Error handling request: the response stream raised");
      co_return false;
    }
    out.clear();
    if (!piece) {
      serialize_last_chunk(chunked, out);
      writer.write(out);
      co_return true;
    }
    sent += piece->size();
    serialize_chunk(*piece, chunked, out);
    writer.write(out);
    if (writer.transport().get_write_buffer_size() > writer.transport().get_write_buffer_limits().second) {
      co_await writer.drain();
    }
  }
}

}  // namespace

asyncio::Coroutine<void> serve_http(asyncio::StreamReader reader, asyncio::StreamWriter writer,
                                    std::shared_ptr<WorkerContext> context) {
  Watched watched{context, context->watch(writer)};
  ConnectionWatch& watch = *watched.entry;
  auto input = std::make_shared<ConnectionInput>(std::move(reader), watch.deadline);
  std::shared_ptr<StreamedBody> streamed;  // the body of the request in hand, when streamed
  // However the coroutine ends, a body's reader (maybe on a handler's thread) learns of it.
  struct Closing {
    ConnectionInput& input;
    std::shared_ptr<StreamedBody>& streamed;
    ~Closing() {
      input.closed = true;
      if (streamed) streamed->finish();
    }
  } closing{*input, streamed};
  auto& loop = asyncio::get_running_loop();
  const std::string peer = peer_of(writer);
  const Config& config = context->config;
  const bool may_stream = context->kind != WorkerKind::sync;
  std::string out;
  bool first = true;
  try {
    for (;;) {
      input->parser = std::make_unique<RequestParser>(context->limits);
      RequestParser& parser = *input->parser;
      // The body is held whole unless it is too large to (then the handler gets a stream).
      auto hold_whole = [&] {
        if (!may_stream || !parser.header_done()) return true;
        const auto limit = static_cast<std::uint64_t>(config.body_buffer_size);
        const auto length = parser.content_length();
        return length ? *length <= limit : parser.request().body.size() <= limit;
      };
      // Between requests the connection may idle for `keepalive`; once a request begins its
      // head must arrive within header_timeout, and its body keep coming at least that often.
      watch.idle = !first && !input->has_unparsed();
      double request_began = loop.time();
      watch.deadline = request_began + (watch.idle ? config.keepalive : config.header_timeout);
      bool header_seen = false;
      while (!parser.done() && !parser.error_status() && hold_whole()) {
        if (input->has_unparsed()) {
          if (watch.idle) {
            watch.idle = false;
            request_began = loop.time();
            watch.deadline = request_began + config.header_timeout;
          }
          input->parse_buffered();
          if (!header_seen && parser.header_done()) {
            header_seen = true;
            if (parser.expects_continue()) writer.write("HTTP/1.1 100 Continue\r\n\r\n");
          }
          if (parser.done() || parser.error_status() || !hold_whole()) break;
        }
        if (!co_await input->receive()) {  // the peer closed: between requests that is the normal end
          if (!input->has_unparsed() && !parser.started()) co_return;
          parser.feed_eof();
          break;
        }
        if (header_seen) watch.deadline = loop.time() + config.header_timeout;
      }
      watch.idle = false;
      watch.deadline = 0;  // the handler's time is the arbiter's business (timeout)
      if (auto status = parser.error_status()) {
        out.clear();
        serialize_response(error_response(*status, parser.error_reason()), Framing{false, false, false}, out);
        writer.write(out);
        writer.close();
        co_return;
      }
      // The handler's own request; the parser's keeps only body bytes not yet handed over.
      Request request = std::move(parser.request());
      parser.request().body.clear();
      request.peer = peer;
      if (!parser.done()) {
        streamed = std::make_shared<StreamedBody>(input, loop, std::move(request.body), config.header_timeout);
        request.body.clear();
        request.body_stream = streamed;
      }
      const bool http10 = request.http_version == "HTTP/1.0";
      const bool head_request = request.method == "HEAD";
      const bool keep_alive = parser.keep_alive() && context->kind != WorkerKind::sync && !context->stopping;
      std::optional<AccessRecord> record;
      if (context->access_log.enabled()) record = record_of(request, peer);
      const double started = loop.time();
      std::optional<Response> response;
      std::exception_ptr failure;
      try {
        response = co_await run_handler(context, request);
      } catch (const asyncio::CancelledError&) {
        throw;
      } catch (...) {
        failure = std::current_exception();
      }
      if (streamed) streamed->finish();
      // A body that broke off while the handler read it is the client's error, whatever the
      // handler made of it; a read still under way keeps the socket busy.
      const std::optional<int> body_failed = streamed ? parser.error_status() : std::nullopt;
      if (body_failed) {
        response = error_response(*body_failed, parser.error_reason());
      } else if (failure) {
        context->report_handler_error(failure, request);
        response = error_response(500, "the application raised an exception");
      }
      const bool last = context->request_done();
      Framing framing{keep_alive && !last && !context->stopping && !body_failed && !(streamed && streamed->reading()),
                      head_request, http10};
      if (response->headers.get("Connection") == std::optional<std::string_view>("close")) framing.keep_alive = false;
      out.clear();
      serialize_response(*response, framing, out);
      writer.write(out);
      std::size_t sent = response->streamed() ? 0 : response->body.size();
      bool ok = true;
      if (response->streamed() && !head_request) ok = co_await send_stream(context, *response, writer, !http10, sent);
      if (record) {
        record->status = response->status;
        record->body_bytes = head_request ? 0 : sent;
        record->seconds = loop.time() - started;
        context->access_log.write(*record);
      }
      if (!ok) {
        writer.transport().abort();
        co_return;
      }
      if (!framing.keep_alive || (response->streamed() && http10)) {
        writer.close();
        co_return;
      }
      if (streamed) {
        // What the handler left unread goes before the next request can be parsed.
        streamed.reset();
        const bool clean = co_await discard_rest(input, config.header_timeout);
        if (!clean) {
          writer.close();
          co_return;
        }
      }
      if (!input->has_unparsed() &&
          writer.transport().get_write_buffer_size() > writer.transport().get_write_buffer_limits().second) {
        co_await writer.drain();
      }
      first = false;
    }
  } catch (const asyncio::CancelledError&) {
    throw;
  } catch (const OSError&) {
    // The peer went away (reset, broken pipe) or was cut off by the sweep: nothing to answer.
  }
  writer.transport().abort();
}

}  // namespace pyconc::server::detail
