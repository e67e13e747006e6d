// The lab's HTTP services read request heads with parse_request_head: what they serve and what
// they refuse, with which status.
#include "core/collector/http_request.hpp"

#include <gtest/gtest.h>

namespace c1m {

TEST(HttpRequestHead, AGetIsServedAndKeptAlive) {
  RequestHead h = parse_request_head("GET /stats?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 0);
  EXPECT_EQ(h.status, 0) << h.why;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.path, "/stats");  // the query is not part of the route
  EXPECT_TRUE(h.keep_alive);
  EXPECT_EQ(h.content_length, 0u);
}

TEST(HttpRequestHead, APostSaysItsLengthAndMayClose) {
  RequestHead h = parse_request_head("POST /record HTTP/1.1\r\ncontent-length:  42 \r\nConnection: close\r\n\r\n", 100);
  EXPECT_EQ(h.status, 0) << h.why;
  EXPECT_EQ(h.content_length, 42u);
  EXPECT_FALSE(h.keep_alive);
  EXPECT_FALSE(parse_request_head("GET / HTTP/1.0\r\n\r\n", 0).keep_alive);
  EXPECT_TRUE(parse_request_head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0).keep_alive);
}

// The collector checks a participant's token from the head, before a byte of the body is read.
TEST(HttpRequestHead, ABearerTokenIsReadFromTheHead) {
  EXPECT_EQ(
      parse_request_head("POST /record HTTP/1.1\r\nAuthorization: bearer  s3cret \r\nContent-Length: 2\r\n\r\n", 10)
          .bearer,
      "s3cret");
  EXPECT_EQ(parse_request_head("POST /record HTTP/1.1\r\nAuthorization: Basic eDp5\r\n\r\n", 10).bearer, "");
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\n\r\n", 0).bearer, "");
}

TEST(HttpRequestHead, WhatIsRefusedAndWithWhichStatus) {
  struct Case {
    const char* head;
    int status;
  } cases[] = {
      {"GET / HTTP/1.1\r\n", 400},                                                 // no blank line
      {"GET /\r\n\r\n", 400},                                                      // no version
      {"GET stats HTTP/1.1\r\n\r\n", 400},                                         // not a path
      {"GET / HTTP/2.0\r\n\r\n", 505},                                             // a version we do not speak
      {"DELETE /runs/1 HTTP/1.1\r\n\r\n", 405},                                    // a method no service routes
      {"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},                     // past the body limit
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},                      // not a number
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n", 400},          // absurdly long
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},  // smuggling's start
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411},              // chunked uploads are not taken
      {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n folded: header\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    RequestHead h = parse_request_head(c.head, 100);
    EXPECT_EQ(h.status, c.status) << c.head;
    EXPECT_FALSE(h.why.empty()) << c.head;
  }
  EXPECT_EQ(parse_request_head("POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\n", 0).status, 413);  // GET-only service
}

}  // namespace c1m
