// An echo server and its client over asyncio streams (Python's documented pair):
//   async def handle_echo(reader, writer):
//       data = await reader.readline()
//       writer.write(data); await writer.drain()
//       writer.close(); await writer.wait_closed()
//   async def tcp_echo_client(message, port):
//       reader, writer = await asyncio.open_connection('127.0.0.1', port)
//       writer.write(message.encode()); await writer.drain()
//       print(f'Received: {(await reader.readline()).decode()!r}')
//       writer.close(); await writer.wait_closed()
// Three clients run at once on the one thread; the server answers each.
#include <pyconc/asyncio.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace asyncio = pyconc::asyncio;

asyncio::Coroutine<void> handle_echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
  std::string data = co_await reader.readline();
  auto peer = std::any_cast<asyncio::SocketAddress>(writer.get_extra_info("peername"));
  std::printf("server: %zu bytes from %s\n", data.size(), peer.host.c_str());
  writer.write(data);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Coroutine<std::string> tcp_echo_client(std::string message, int port) {
  auto connection = co_await asyncio::open_connection("127.0.0.1", port);
  auto& [reader, writer] = connection;
  writer.write(message + "\n");
  co_await writer.drain();
  std::string answer = co_await reader.readline();
  writer.close();
  co_await writer.wait_closed();
  co_return answer;
}

asyncio::Coroutine<void> main_coroutine() {
  asyncio::Server server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
  const int port = server.sockets().at(0).port;  // port 0: the system picked a free one
  std::vector<asyncio::Task<std::string>> clients;
  for (const char* message : {"Hello World!", "안녕하세요", "bye"})
    clients.push_back(asyncio::create_task(tcp_echo_client(message, port)));
  for (auto& client : clients) {
    std::string answer = co_await client;
    answer.pop_back();  // the '\n'
    std::printf("Received: '%s'\n", answer.c_str());
  }
  server.close();  // Python's `async with server:` ends like this
  co_await server.wait_closed();
  std::printf("server closed\n");
}

int main() { asyncio::run(main_coroutine()); }
