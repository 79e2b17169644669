#include "net/tls/client_hello.h"

#include <boost/test/unit_test.hpp>
#include <openssl/ssl.h>
#include <random>

#include "net/tls/tls_context.h"

namespace monomesh::net::tls {
namespace {

using Bytes = std::vector<uint8_t>;
using Status = ClientHelloInfo::Status;

// The first flight of a real OpenSSL client: its ClientHello, captured from a memory BIO.
Bytes realClientHello(const TlsSettings& settings) {
  TlsContextResult ctx = makeClientContext(settings);
  BOOST_REQUIRE_MESSAGE(ctx.context, ctx.error);
  SSL* ssl = SSL_new(ctx.context->native());
  ctx.context->prepareClient(ssl);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  BOOST_TEST(SSL_connect(ssl) == -1);
  BOOST_TEST(SSL_get_error(ssl, -1) == SSL_ERROR_WANT_READ);
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  Bytes hello(data, data + size);
  SSL_free(ssl);
  return hello;
}

Bytes meshHello() {
  TlsSettings s;
  s.alpn = {"istio", "h2", "http/1.1"};
  s.sni = "outbound_.9080_._.reviews.default.svc.cluster.local";
  return realClientHello(s);
}

ClientHelloInfo inspect(const Bytes& b, size_t max = kDefaultMaxClientHelloBytes) {
  return inspectClientHello(std::span<const uint8_t>(b), max);
}
ClientHelloInfo inspect(std::string_view text) {
  return inspectClientHello(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

// The same handshake bytes re-framed into records of at most `size` bytes each.
Bytes reframe(const Bytes& hello, size_t size) {
  Bytes handshake(hello.begin() + 5, hello.end());
  Bytes out;
  for (size_t i = 0; i < handshake.size(); i += size) {
    size_t n = std::min(size, handshake.size() - i);
    out.insert(out.end(), {22, 3, 1, uint8_t(n >> 8), uint8_t(n)});
    out.insert(out.end(), handshake.begin() + i, handshake.begin() + i + n);
  }
  return out;
}

// Hand-made ClientHellos for malformed cases.
void put16(Bytes& b, size_t v) { b.insert(b.end(), {uint8_t(v >> 8), uint8_t(v)}); }
Bytes extension(uint16_t type, const Bytes& data) {
  Bytes e;
  put16(e, type);
  put16(e, data.size());
  e.insert(e.end(), data.begin(), data.end());
  return e;
}
Bytes sniExtension(const std::string& name) {
  Bytes entry{0};
  put16(entry, name.size());
  entry.insert(entry.end(), name.begin(), name.end());
  Bytes list;
  put16(list, entry.size());
  list.insert(list.end(), entry.begin(), entry.end());
  return extension(0, list);
}
Bytes alpnExtension(const std::vector<std::string>& names) {
  Bytes entries;
  for (const auto& n : names) {
    entries.push_back(uint8_t(n.size()));
    entries.insert(entries.end(), n.begin(), n.end());
  }
  Bytes list;
  put16(list, entries.size());
  list.insert(list.end(), entries.begin(), entries.end());
  return extension(16, list);
}
// body_tail goes after compression methods (normally the extensions block).
Bytes handMadeHello(const Bytes& body_tail, uint8_t session_id_length = 0) {
  Bytes body{3, 3};
  body.insert(body.end(), 32, 0xab);
  body.push_back(session_id_length);
  body.insert(body.end(), session_id_length, 0);
  body.insert(body.end(), {0, 2, 0x13, 0x01, 1, 0});
  body.insert(body.end(), body_tail.begin(), body_tail.end());
  Bytes hs{1, 0, uint8_t(body.size() >> 8), uint8_t(body.size())};
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes record{22, 3, 1, uint8_t(hs.size() >> 8), uint8_t(hs.size())};
  record.insert(record.end(), hs.begin(), hs.end());
  return record;
}
Bytes withExtensions(const std::vector<Bytes>& extensions) {
  Bytes all;
  for (const auto& e : extensions) all.insert(all.end(), e.begin(), e.end());
  Bytes block;
  put16(block, all.size());
  block.insert(block.end(), all.begin(), all.end());
  return handMadeHello(block);
}

BOOST_AUTO_TEST_SUITE(client_hello)

BOOST_AUTO_TEST_CASE(reads_sni_and_alpn_from_a_real_openssl_client_hello) {
  Bytes hello = meshHello();
  ClientHelloInfo info = inspect(hello);
  BOOST_TEST((info.status == Status::Tls));
  BOOST_TEST(info.server_name == "outbound_.9080_._.reviews.default.svc.cluster.local");
  BOOST_TEST(info.alpn == (std::vector<std::string>{"istio", "h2", "http/1.1"}), boost::test_tools::per_element());
  BOOST_TEST(info.transportProtocol() == "tls");

  // Bytes after the hello (the client's next flight) change nothing.
  hello.insert(hello.end(), {23, 3, 3, 0, 1, 0});
  BOOST_TEST(inspect(hello).server_name == info.server_name);
}

BOOST_AUTO_TEST_CASE(a_hello_without_sni_or_alpn_is_still_tls) {
  TlsSettings plain;
  plain.max_version = TlsVersion::Tls12;
  ClientHelloInfo info = inspect(realClientHello(plain));
  BOOST_TEST((info.status == Status::Tls));
  BOOST_TEST(info.server_name == "");
  BOOST_TEST(info.alpn.empty());
  BOOST_TEST((inspect(handMadeHello({})).status == Status::Tls));  // no extensions block at all
}

BOOST_AUTO_TEST_CASE(every_truncation_needs_more_data) {
  Bytes hello = meshHello();
  for (size_t n = 0; n < hello.size(); ++n) {
    ClientHelloInfo info = inspect(Bytes(hello.begin(), hello.begin() + n));
    BOOST_TEST_CONTEXT("prefix " << n) {
      BOOST_TEST((info.status == Status::NeedMoreData));
      BOOST_TEST(info.transportProtocol() == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_hello_split_across_records_is_reassembled) {
  Bytes hello = meshHello();
  for (size_t size : {1u, 2u, 3u, 7u, 100u, 512u}) {
    Bytes split = reframe(hello, size);
    BOOST_TEST_CONTEXT("records of " << size) {
      ClientHelloInfo info = inspect(split);
      BOOST_TEST((info.status == Status::Tls));
      BOOST_TEST(info.server_name == "outbound_.9080_._.reviews.default.svc.cluster.local");
      BOOST_TEST(info.alpn.size() == 3u);
      size_t not_need_more = 0;
      for (size_t n = 0; n < split.size(); ++n) {
        not_need_more += inspect(Bytes(split.begin(), split.begin() + n)).status != Status::NeedMoreData;
      }
      BOOST_TEST(not_need_more == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(plain_text_and_garbage_are_not_tls) {
  for (std::string_view text : {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "G", "PRI * HTTP/2.0\r\n", "\x16\x02", "\x16\x03\x07",
                                "\x80\x2e\x01\x03\x01"}) {  // the last: an SSLv2-format hello
    BOOST_TEST_CONTEXT(text) {
      ClientHelloInfo info = inspect(text);
      BOOST_TEST((info.status == Status::NotTls));
      BOOST_TEST(info.transportProtocol() == "raw_buffer");
    }
  }
  BOOST_TEST((inspect(Bytes{22, 3, 1, 0, 4, 2, 0, 0, 0}).status == Status::NotTls));  // a ServerHello
  BOOST_TEST((inspect(Bytes{22, 3, 1, 0, 0}).status == Status::NotTls));              // empty record
  BOOST_TEST((inspect(Bytes{22, 3, 1, 0x40, 0x01}).status == Status::NotTls));        // record over 2^14
  BOOST_TEST((inspect(Bytes{22, 3, 1, 0, 4, 1, 0, 0, 0}).status == Status::NotTls));  // empty hello body
  BOOST_TEST((inspect(Bytes{}).status == Status::NeedMoreData));
}

BOOST_AUTO_TEST_CASE(malformed_hellos_are_not_tls) {
  BOOST_TEST((inspect(withExtensions({sniExtension("a.example"), alpnExtension({"h2"})})).status == Status::Tls));
  struct Case {
    const char* name;
    Bytes hello;
  } cases[] = {
      {"session id over 32 bytes", handMadeHello({}, 33)},
      {"two SNI extensions", withExtensions({sniExtension("a.example"), sniExtension("b.example")})},
      {"two ALPN extensions", withExtensions({alpnExtension({"h2"}), alpnExtension({"h2"})})},
      {"SNI with a NUL", withExtensions({sniExtension(std::string("good.com\0.evil", 14))})},
      {"empty SNI", withExtensions({sniExtension("")})},
      {"SNI over 255 bytes", withExtensions({sniExtension(std::string(256, 'a'))})},
      {"empty ALPN name", withExtensions({alpnExtension({"h2", ""})})},
      {"empty ALPN list", withExtensions({alpnExtension({})})},
      {"extension longer than its block", handMadeHello({0, 4, 0, 0, 0, 9})},
      {"extensions block longer than the hello", handMadeHello({0, 40, 0, 16, 0, 0})},
      {"bytes after the extensions", handMadeHello({0, 0, 7})},
      {"one stray byte for an extensions length", handMadeHello({0})},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) { BOOST_TEST((inspect(c.hello).status == Status::NotTls)); }
  }
}

BOOST_AUTO_TEST_CASE(oversized_hellos_are_too_large) {
  Bytes hello = meshHello();
  // Declared larger than the limit: known from the handshake header alone.
  BOOST_TEST((inspect(Bytes{22, 3, 1, 0x40, 0, 1, 0xff, 0xff, 0xff}).status == Status::TooLarge));
  BOOST_TEST((inspect(hello, hello.size() - 10).status == Status::TooLarge));
  // Within the limit by its own length but with more input than the limit still incomplete.
  Bytes tiny_records = reframe(hello, 1);
  BOOST_TEST((inspect(tiny_records, hello.size()).status == Status::TooLarge));
  BOOST_TEST((inspect(tiny_records, tiny_records.size()).status == Status::Tls));
  BOOST_TEST(inspect(tiny_records, hello.size()).transportProtocol() == "");
}

BOOST_AUTO_TEST_CASE(random_corruption_never_reads_out_of_bounds) {
  // Run under ASan (make test-asan) this is a small fuzzer; here it also checks the invariants.
  Bytes hello = meshHello();
  std::mt19937 random(12345);
  size_t tls = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes b = hello;
    for (int flips = 1 + round % 4; flips > 0; --flips) b[random() % b.size()] = uint8_t(random());
    b.resize(random() % (b.size() + 1));
    ClientHelloInfo info = inspect(b, 1 + random() % 4096);
    tls += info.status == Status::Tls;
    if (info.status != Status::Tls) {
      BOOST_REQUIRE(info.server_name.empty() && info.alpn.empty());
    } else {
      BOOST_REQUIRE(info.server_name.size() <= 255);
    }
  }
  BOOST_TEST(tls > 0u);  // some corruptions hit bytes nobody checks (the random)
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace monomesh::net::tls
