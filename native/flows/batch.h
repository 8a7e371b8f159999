// What flows.cc (the flow tracker, the connection text) and diagnose.cc (the
// diagnoser's aggregation) share: src/flows/codec.ts's batch layout (bits,
// enumerations and their names) and the text primitives JavaScript's own
// number and address formatting are matched with.
#pragma once

#include <napi.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int NOTE_NONE = 0, NOTE_RETRANS = 1, NOTE_DUP = 2, NOTE_KEEPALIVE = 3, NOTE_OOO = 4;
constexpr int FROM_CLIENT = 0, FROM_SERVER = 1, FROM_ICMP = 2;
constexpr int O_UNANSWERED = 0, O_REFUSED = 1, O_ICMP_REJECTED = 2, O_ABORTED_BY_CLIENT = 3, O_SYNACK_UNACKED = 4,
              O_ESTABLISHED = 5, O_CLOSED = 6, O_RESET = 7, O_MIDSTREAM = 8, O_PENDING = 9;
constexpr int Z_S0 = 0, Z_S1 = 1, Z_SF = 2, Z_REJ = 3, Z_S2 = 4, Z_S3 = 5, Z_RSTO = 6, Z_RSTR = 7, Z_RSTOS0 = 8,
              Z_RSTRH = 9, Z_SH = 10, Z_SHR = 11, Z_OTH = 12;

// codec.ts bits
constexpr int B_RST = 1, B_RST_SERVER = 2, B_FORGED = 4, B_ICMP = 8, B_RTT = 16, B_OPTS = 32, B_MSS_NULL = 64,
              B_WS_NULL = 128, B_SACK = 256, B_TS = 512, B_TRUNC = 1024, B_EVICTED = 2048;

/**
 * strings(base, reset, texts) of the JS side: a batch's new strings into
 * `table`, numbered from base (the whole table first cleared when reset);
 * `conv` turns each JS string into the table's kind.
 */
template <typename T, typename Conv>
void takeStrings(const Napi::CallbackInfo& info, std::vector<T>& table, Conv conv) {
  const size_t base = (size_t)info[0].As<Napi::Number>().Int64Value();
  if (info[1].As<Napi::Boolean>().Value()) table.clear();
  Napi::Array texts = info[2].As<Napi::Array>();
  const uint32_t n = texts.Length();
  if (table.size() < base + n) table.resize(base + n);
  for (uint32_t k = 0; k < n; k++) table[base + k] = conv(texts.Get(k).As<Napi::String>());
}

/** JavaScript's Math.round (ties toward +Infinity). */
inline double jsRound(double x) {
  double r = std::floor(x);
  if (x - r >= 0.5) r += 1.0;
  return r;
}

const char* const OUTCOME_NAMES[] = {"unanswered", "refused", "icmp-rejected", "aborted-by-client", "synack-unacked",
                                     "established", "closed", "reset", "midstream", "pending"};
const char* const ZEEK_NAMES[] = {"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"};
const char* const SIDE_NAMES[] = {"client", "server", "icmp"};
const char* const NOTE_NAMES[] = {nullptr, "retransmission", "duplicate", "keep-alive", "out-of-order"};

class JsonOut {
 public:
  std::vector<char> buf;
  char* p = nullptr;
  char* end = nullptr;

  void start() {
    if (buf.size() < (1u << 16)) buf.resize(1u << 16);
    p = buf.data();
    end = p + buf.size();
  }
  size_t size() const { return (size_t)(p - buf.data()); }
  /** Room for n more bytes (writes below assume it: callers reserve per connection and per string). */
  void ensure(size_t n) {
    if ((size_t)(end - p) >= n) return;
    const size_t used = size();
    size_t cap = buf.size() * 2;
    while (cap - used < n) cap *= 2;
    buf.resize(cap);
    p = buf.data() + used;
    end = buf.data() + cap;
  }
  template <size_t N>
  void lit(const char (&s)[N]) {
    std::memcpy(p, s, N - 1);
    p += N - 1;
  }
  void lit(const char* s, size_t n) {
    std::memcpy(p, s, n);
    p += n;
  }
  void ch(char c) { *p++ = c; }
  void raw(const std::string& s) {
    ensure(s.size() + 64);
    lit(s.data(), s.size());
  }
  void quoted(const char* s) {
    ch('"');
    lit(s, std::strlen(s));
    ch('"');
  }

  /** "00".."99". */
  static const char* pairs() {
    struct Table {
      char t[200];
      Table() {
        for (int i = 0; i < 100; i++) {
          t[2 * i] = (char)('0' + i / 10);
          t[2 * i + 1] = (char)('0' + i % 10);
        }
      }
    };
    static const Table table;  // initialised once, thread-safe
    return table.t;
  }

  static int digitCount(uint64_t u) {
    int n = 1;
    while (u >= 10000) {
      u /= 10000;
      n += 4;
    }
    return u >= 1000 ? n + 3 : u >= 100 ? n + 2 : u >= 10 ? n + 1 : n;
  }

  /** The d decimal digits of u (zero-padded), ending at end. */
  static void putDigits(char* end, uint64_t u, int d, const char* P) {
    char* q = end;
    while (d >= 2) {
      const uint64_t r = u % 100;
      u /= 100;
      q -= 2;
      q[0] = P[2 * r];
      q[1] = P[2 * r + 1];
      d -= 2;
    }
    if (d > 0) *--q = (char)('0' + u % 10);
  }

  /** Digits of a non-negative integer below 2^53. */
  void digits(double x) {
    const uint64_t u = (uint64_t)x;
    if (u < 10) {
      *p++ = (char)('0' + u);
      return;
    }
    const int d = digitCount(u);
    putDigits(p + d, u, d, pairs());
    p += d;
  }

  /** A number exactly as JSON.stringify writes it (json.ts jNum). */
  void num(double v) {
    if (v >= -2147483648.0 && v <= 2147483647.0 && (double)(int32_t)v == v) {
      if (v >= 0)
        digits(v == 0 ? 0 : v);
      else {
        ch('-');
        digits(-v);
      }
      return;
    }
    constexpr double MICRO = 1e6, MICRO_MAX = 8589934592.0;
    if (v > 0 && v < MICRO_MAX) {
      const double m = jsRound(v * MICRO);
      if (m / MICRO == v) {
        // m is a whole number below 2^53: the integer part and the six decimals exactly
        const uint64_t mi = (uint64_t)m;
        const uint64_t ip = mi / 1000000;
        const uint32_t frac = (uint32_t)(mi % 1000000);
        digits((double)ip);
        if (frac != 0) {
          *p++ = '.';
          putDigits(p + 6, frac, 6, pairs());
          char* e = p + 6;
          while (e[-1] == '0') e--;
          p = e;
        }
        return;
      }
    }
    if (!std::isfinite(v)) {
      lit("null");
      return;
    }
    jsNumberText(v);
  }

  /** Number#toString(10) (ECMAScript Number::toString): shortest round-trip digits, laid out as JavaScript does. */
  void jsNumberText(double v) {
    char sci[64];
    auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
    std::string t(sci, r.ptr);
    size_t p = 0;
    if (t[0] == '-') {
      ch('-');
      p = 1;
    }
    const size_t e = t.find('e');
    std::string dig;
    for (size_t k = p; k < e; k++)
      if (t[k] != '.') dig.push_back(t[k]);
    while (dig.size() > 1 && dig.back() == '0') dig.pop_back();
    const int exp10 = std::atoi(t.c_str() + e + 1);
    const int k = (int)dig.size();
    const int n = exp10 + 1;
    if (k <= n && n <= 21) {
      raw(dig);
      for (int z = 0; z < n - k; z++) ch('0');
    } else if (0 < n && n <= 21) {
      lit(dig.data(), (size_t)n);
      ch('.');
      lit(dig.data() + n, dig.size() - (size_t)n);
    } else if (-6 < n && n <= 0) {
      lit("0.");
      for (int z = 0; z < -n; z++) ch('0');
      raw(dig);
    } else {
      ch(dig[0]);
      if (k > 1) {
        ch('.');
        lit(dig.data() + 1, dig.size() - 1);
      }
      ch('e');
      ch(n - 1 >= 0 ? '+' : '-');
      digits(std::fabs((double)(n - 1)));
    }
  }

  void ipv4(uint32_t w) {
    digits(w >> 24);
    ch('.');
    digits((w >> 16) & 0xff);
    ch('.');
    digits((w >> 8) & 0xff);
    ch('.');
    digits(w & 0xff);
  }

  void hex(uint32_t g) {
    char tmp[8];
    int n = 0;
    do {
      tmp[n++] = "0123456789abcdef"[g & 15];
      g >>= 4;
    } while (g > 0);
    while (n > 0) ch(tmp[--n]);
  }

  /** decode/addr.ts formatAddr, quoted. */
  void addr(int ipv, const double* w) {
    ch('"');
    if (ipv == 4) {
      ipv4((uint32_t)w[0]);
      ch('"');
      return;
    }
    const uint32_t w0 = (uint32_t)w[0], w1 = (uint32_t)w[1], w2 = (uint32_t)w[2], w3 = (uint32_t)w[3];
    if (w0 == 0 && w1 == 0 && w2 == 0x0000ffff) {
      lit("::ffff:");
      ipv4(w3);
    } else if (w0 == 0 && w1 == 0 && w2 == 0 && (w3 >> 16) != 0) {
      lit("::");
      ipv4(w3);
    } else {
      const uint32_t g[8] = {w0 >> 16, w0 & 0xffff, w1 >> 16, w1 & 0xffff, w2 >> 16, w2 & 0xffff, w3 >> 16, w3 & 0xffff};
      int bestStart = -1, bestLen = 1;
      for (int i = 0; i < 8;) {
        if (g[i] != 0) {
          i++;
          continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0) j++;
        if (j - i > bestLen) {
          bestStart = i;
          bestLen = j - i;
        }
        i = j;
      }
      if (bestStart < 0) {
        for (int i = 0; i < 8; i++) {
          if (i > 0) ch(':');
          hex(g[i]);
        }
      } else {
        for (int i = 0; i < bestStart; i++) {
          if (i > 0) ch(':');
          hex(g[i]);
        }
        lit("::");
        for (int i = bestStart + bestLen; i < 8; i++) {
          if (i > bestStart + bestLen) ch(':');
          hex(g[i]);
        }
      }
    }
    ch('"');
  }
};

}  // namespace
