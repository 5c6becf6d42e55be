// Python's connection authentication (deliver_challenge / answer_challenge): each side sends
// a random challenge and checks the other's HMAC-SHA256 of it, keyed by the shared authkey.
// The HMAC, the random bytes and the constant-time comparison are OpenSSL's.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <string>
#include <string_view>

#include "detail/built_at_load.hpp"
#include "pyconc/multiprocessing/listener.hpp"

namespace pyconc::multiprocessing::connection {

namespace {

constexpr std::string_view kChallenge = "#CHALLENGE#";
constexpr std::string_view kWelcome = "#WELCOME#";
constexpr std::string_view kFailure = "#FAILURE#";
constexpr std::string_view kDigestName = "{sha256}";
constexpr std::size_t kMessageBytes = 40;  // Python's MESSAGE_LENGTH
constexpr std::size_t kMaxReply = 256;     // what either side reads of the other's message

std::string hmac_sha256(const std::string& key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length))
    throw OSError("HMAC-SHA256 failed");
  return std::string(kDigestName) + std::string(reinterpret_cast<const char*>(digest), length);
}

// OpenSSL frees its state in an atexit handler of its own, registered at its first use: after
// the library's exit sequence was registered, so it would run first, and the exit sequence
// (proxies giving their references back to a manager) still authenticates connections.
// Initialised here, before anything else uses it, it registers no such handler.
PYCONC_BUILD_AT_LOAD(OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr));

bool same_bytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

void deliver_challenge(Connection& connection, const std::string& authkey) {
  std::string message(kMessageBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(message.data()), static_cast<int>(message.size())) != 1)
    throw OSError("no random bytes for the challenge");
  message = std::string(kDigestName) + message;
  connection.send_bytes(std::string(kChallenge) + message);
  std::string response;
  try {
    response = connection.recv_bytes(kMaxReply);
  } catch (const OSError&) {
    throw AuthenticationError("digest received was wrong");  // not an answer at all
  }
  if (same_bytes(response, hmac_sha256(authkey, message))) {
    connection.send_bytes(kWelcome);
    return;
  }
  try {
    connection.send_bytes(kFailure);
  } catch (const OSError&) {
  }
  throw AuthenticationError("digest received was wrong");
}

void answer_challenge(Connection& connection, const std::string& authkey) {
  const std::string challenge = connection.recv_bytes(kMaxReply);
  if (challenge.rfind(kChallenge, 0) != 0)
    throw AuthenticationError("Protocol error, expected challenge: " + challenge.substr(0, 20));
  const std::string_view message = std::string_view(challenge).substr(kChallenge.size());
  if (message.rfind(kDigestName, 0) != 0) throw AuthenticationError("unsupported digest in the challenge");
  connection.send_bytes(hmac_sha256(authkey, message));
  if (connection.recv_bytes(kMaxReply) != kWelcome) throw AuthenticationError("digest sent was rejected");
}

}  // namespace pyconc::multiprocessing::connection
