// The diagnoser's per-connection aggregation, compiled: src/diagnose/diagnose.ts
// Diagnoser.add() (and quantiles.ts Quantiles.add) read straight from the
// codec.ts batches the flow tracker makes, without decoding them into
// Connection objects. Diagnoser.add() stays the reference and the fallback;
// the findings (their sentences) are still written by diagnose.ts from the
// aggregates this exports (state(): Diagnoser.restore()).
//
// What it must match: every counter, estimator, frame list and example
// choice of Diagnoser.add(), in the same order of insertion where order shows
// (destinations: by address first seen, then port first seen). Distinct
// clients are counted over the address text, as diagnose.ts does (the exact
// set, then FNV-1a over its UTF-16 code units into the same bitmap).
// test/diagnose/native.test.ts compares the two on captures and made-up
// batches.
//
// The JS side (src/flows/native.ts NativeDiagnoser): strings(base, reset,
// texts) with each batch's new strings (raw); add(nums, length, count) per
// batch, which returns the start of each row to keep as an example (JS
// decodes only those), or undefined; state() at the end.

#include <napi.h>

#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "batch.h"

namespace {

constexpr size_t FRAMES_PER_KIND = 16;
constexpr int EXAMPLES_PER_DESTINATION = 2;
constexpr size_t MAX_CLIENTS_EXACT = 256;
constexpr uint32_t CLIENT_BITMAP_BITS = 8192;
constexpr int OUTCOME_COUNT = 10;

// DiagnosisKind (src/diagnose/types.ts), the kinds add() notes evidence for, in diagnose.ts KINDS_NOTED order
enum Kind {
  K_SILENT_DROP,
  K_REFUSED,
  K_ICMP_REJECTED,
  K_SYNACK_UNACKED,
  K_FORGED_RST,
  K_RESET_AFTER,
  K_RETRIED,
  K_ABORTED,
  K_DATA_RETRANS,
  K_COUNT
};

constexpr double INF = std::numeric_limits<double>::infinity();

/** quantiles.ts Quantiles: exact up to 64 samples, then 64 bins per power of two from the float's bits. */
struct Quantiles {
  static constexpr size_t EXACT_MAX = 64;
  static constexpr int KEY_SHIFT = 14;
  static constexpr double FLOOR = 1e-4;

  double count = 0;
  double min = INF;
  double max = -INF;
  bool exactMode = true;
  std::vector<double> exact;
  std::vector<uint32_t> counts;
  int64_t lo = 0;

  static int64_t binOf(double v) {
    const double x = v > FLOOR ? v : FLOOR;
    uint64_t b;
    std::memcpy(&b, &x, 8);
    return (int64_t)((uint32_t)(b >> 32) >> KEY_SHIFT);
  }

  void add(double v) {
    if (!std::isfinite(v)) return;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
    if (exactMode) {
      if (exact.size() < EXACT_MAX) {
        exact.push_back(v);
        return;
      }
      lo = binOf(v) - 32;
      counts.assign(64, 0);
      exactMode = false;
      for (double x : exact) addBin(x);
      exact.clear();
      exact.shrink_to_fit();
    }
    addBin(v);
  }

  void addBin(double v) {
    const int64_t k = binOf(v);
    int64_t i = k - lo;
    const int64_t len = (int64_t)counts.size();
    if (i < 0 || i >= len) {
      const int64_t nlo = std::min(lo, k - 16);
      const int64_t nhi = std::max(lo + len, k + 17);
      std::vector<uint32_t> n((size_t)(nhi - nlo), 0);
      std::copy(counts.begin(), counts.end(), n.begin() + (lo - nlo));
      counts.swap(n);
      lo = nlo;
      i = k - nlo;
    }
    counts[(size_t)i]++;
  }

  /** diagnose.ts StateReader.quantiles(): count, min, max, then 0 and the exact samples, or 1, lo and the bin counts (each list after its length). */
  void put(std::vector<double>& o) const {
    o.push_back(count);
    o.push_back(min);
    o.push_back(max);
    if (exactMode) {
      o.push_back(0);
      o.push_back((double)exact.size());
      o.insert(o.end(), exact.begin(), exact.end());
    } else {
      o.push_back(1);
      o.push_back((double)lo);
      o.push_back((double)counts.size());
      for (uint32_t c : counts) o.push_back(c);
    }
  }
};

struct Evidence {
  bool used = false;
  std::vector<double> frames;
  std::vector<double> ids;
  int examplesKept = 0;
};

struct IcmpAgg {
  double type, code;
  std::u16string from;
  double ipVersion;
  double n;
};

struct U16Hash {
  size_t operator()(const std::u16string& s) const {
    uint64_t h = 1469598103934665603ull;
    for (char16_t c : s) h = (h ^ (uint64_t)c) * 1099511628211ull;
    return (size_t)h;
  }
};

/** diagnose.ts DestAgg (the -0 starts: see there). */
struct Dest {
  std::u16string ip;
  double port = 0;
  double attempts = 0;
  double outcomes[OUTCOME_COUNT] = {};
  // distinct clients: the exact set, then the bitmap
  std::unordered_set<std::u16string, U16Hash> clientSet;
  std::vector<uint32_t> clientBits;  // empty while exact
  double synRetrans = 0, synAckRetrans = 0, dataRetrans = 0, packets = 0;
  Quantiles rttSyn, rttTotal;
  double unansweredSyns = 0, minRetries = INF, maxRetries = 0, maxSpanS = -0.0;
  double pendingRetried = 0, pendingSyns = 0, pendingMaxSpanS = -0.0;
  double refusedForged = 0, resetForged = 0;
  bool hasForgedReason = false;
  std::u16string forgedReason;
  std::vector<double> rstTtls;  // a set, in insertion order
  double resetByClient = 0, resetByServer = 0;
  std::vector<IcmpAgg> icmp;
  double unackedClientRst = 0, unackedClientResentSyn = 0;
  double handshakes = 0, retried = 0, retriedExtraSyns = 0;
  double retriedAddedMsSum = -0.0, retriedAddedMsMax = -0.0, retriedAddedCount = 0;
  Evidence evidence[K_COUNT];

  void setBit(const std::u16string& ip) {
    uint32_t h = 0x811c9dc5u;
    for (char16_t c : ip) h = (h ^ (uint32_t)c) * 0x01000193u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    const uint32_t bit = h % CLIENT_BITMAP_BITS;
    clientBits[bit >> 5] |= 1u << (bit & 31);
  }

  void addClient(const std::u16string& ip) {
    if (clientBits.empty()) {
      clientSet.insert(ip);
      if (clientSet.size() <= MAX_CLIENTS_EXACT) return;
      clientBits.assign(CLIENT_BITMAP_BITS / 32, 0);
      for (const auto& x : clientSet) setBit(x);
      std::unordered_set<std::u16string, U16Hash>().swap(clientSet);
      return;
    }
    setBit(ip);
  }
};

struct IpEntry {
  std::unordered_map<double, uint32_t> ports;  // port -> dest index
  std::vector<uint32_t> dests;                 // in the order first seen
};

/** One ladder step of a row: 9 numbers (codec.ts). */
struct Step {
  const double* s;
  double frame() const { return s[0]; }
  double ts() const { return s[1]; }
  double from() const { return s[2]; }
  double flags() const { return s[3]; }
  double ttl() const { return s[7]; }
  double note() const { return s[8]; }
};

class Diagnoser : public Napi::ObjectWrap<Diagnoser> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Diagnoser",
                                   {InstanceMethod("strings", &Diagnoser::Strings), InstanceMethod("add", &Diagnoser::Add),
                                    InstanceMethod("state", &Diagnoser::State)});
    exports.Set("Diagnoser", f);
  }

  /** new Diagnoser(maxExamplesPerKind, maxDestinations): already clamped by the JS side. */
  explicit Diagnoser(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Diagnoser>(info) {
    maxExamples_ = info[0].As<Napi::Number>().DoubleValue();
    maxDestinations_ = info[1].As<Napi::Number>().DoubleValue();
  }

 private:
  double maxExamples_ = 5;
  double maxDestinations_ = 100000;
  std::vector<std::u16string> table_;  // the batches' strings, raw
  std::vector<Dest> dests_;
  std::unordered_map<std::u16string, IpEntry, U16Hash> ips_;
  std::vector<const std::u16string*> ipOrder_;
  double destCount_ = 0;
  bool hasOther_ = false;
  Dest other_;
  double otherConnections_ = 0;
  double examplesPerKind_[K_COUNT] = {};
  Quantiles globalRtt_;
  std::unordered_map<std::u16string, std::vector<double>, U16Hash> hostTtls_;
  std::vector<const std::u16string*> hostOrder_;
  double total_ = 0, handshakesOk_ = 0;
  // the current row's example (kept at most once per batch row)
  bool keepRow_ = false;
  // scratch
  JsonOut text_;
  std::u16string client_, server_, icmpFrom_;
  std::vector<double> frames_;

  const std::u16string& str(double x) const {
    static const std::u16string none;
    const size_t id = (size_t)(-1 - x);
    return id < table_.size() ? table_[id] : none;
  }

  /** An address at a[i] (codec.ts `+`) as diagnose.ts sees it (decode/addr.ts formatAddr text); the next index. */
  size_t addrText(const double* a, size_t i, std::u16string& out) {
    const double t = a[i++];
    if (t == 4 || t == 6) {
      text_.start();
      text_.addr((int)t, a + i);
      out.assign(text_.buf.data() + 1, text_.buf.data() + text_.size() - 1);  // without the quotes
      return i + (t == 4 ? 1 : 4);
    }
    out = str(-1 - a[i]);
    return i + 1;
  }

  // Enumerated strings: an index, or -1 - string id (codec.ts `*`).
  int side(double x) const {
    if (x >= 0) return (int)x;
    const std::u16string& s = str(x);
    return s == u"client" ? FROM_CLIENT : s == u"server" ? FROM_SERVER : -1;
  }
  bool flagsIs(double x, uint32_t bits, const char16_t* text) const { return x >= 0 ? (uint32_t)x == bits : str(x) == text; }
  /** flagsText(x).startsWith("SYN"): SYN is the first name after FIN in Wireshark's order. */
  bool flagsStartSyn(double x) const {
    if (x >= 0) return ((uint32_t)x & 0x03) == 0x02;
    return str(x).rfind(u"SYN", 0) == 0;
  }
  bool flagsHaveSyn(double x) const { return x >= 0 ? ((uint32_t)x & 0x02) != 0 : str(x).find(u"SYN") != std::u16string::npos; }
  bool noteIs(double x, int index, const char16_t* text) const { return x >= 0 ? (int)x == index : str(x) == text; }

  Dest& dest(const std::u16string& ip, double port) {
    auto it = ips_.find(ip);
    if (it != ips_.end()) {
      auto p = it->second.ports.find(port);
      if (p != it->second.ports.end()) return dests_[p->second];
    }
    if (destCount_ >= maxDestinations_) {
      otherConnections_++;
      if (!hasOther_) {
        hasOther_ = true;
        other_.ip = u"other destinations";  // diagnose.ts OTHER_DESTINATIONS_IP
        other_.port = 0;
      }
      return other_;
    }
    if (it == ips_.end()) {
      it = ips_.emplace(ip, IpEntry()).first;
      ipOrder_.push_back(&it->first);
    }
    const uint32_t idx = (uint32_t)dests_.size();
    dests_.emplace_back();
    dests_.back().ip = ip;
    dests_.back().port = port;
    it->second.ports.emplace(port, idx);
    it->second.dests.push_back(idx);
    destCount_++;
    return dests_[idx];
  }

  template <typename Frames>
  void note(Dest& d, Kind kind, double id, const Frames& frames) {
    Evidence& e = d.evidence[kind];
    e.used = true;
    for (double f : frames) {
      if (e.frames.size() >= FRAMES_PER_KIND) break;
      e.frames.push_back(f);
    }
    if (examplesPerKind_[kind] < maxExamples_ && e.examplesKept < EXAMPLES_PER_DESTINATION) {
      examplesPerKind_[kind]++;
      e.examplesKept++;
      e.ids.push_back(id);
      keepRow_ = true;
    }
  }

  struct Span {
    const double* b;
    const double* e;
    const double* begin() const { return b; }
    const double* end() const { return e; }
  };

  /** strings(base, reset, texts): a batch's new strings, numbered from base. */
  Napi::Value Strings(const Napi::CallbackInfo& info) {
    takeStrings(info, table_, [](const Napi::String& t) { return t.Utf16Value(); });
    return info.Env().Undefined();
  }

  /** add(nums, length, count): Diagnoser.add() for each connection of the batch; the rows to keep as examples (their first number's index), or undefined. */
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Float64Array nums = info[0].As<Napi::Float64Array>();
    const size_t length = std::min((size_t)info[1].As<Napi::Number>().Int64Value(), nums.ElementLength());
    const int64_t count = info[2].As<Napi::Number>().Int64Value();
    const double* a = nums.Data();
    std::vector<double> keep;
    size_t i = 0;
    for (int64_t k = 0; k < count && i < length; k++) {
      const size_t row = i;
      keepRow_ = false;
      i = connection(a, i);
      if (keepRow_) keep.push_back((double)row);
    }
    if (keep.empty()) return env.Undefined();
    Napi::Array out = Napi::Array::New(env, keep.size());
    for (uint32_t j = 0; j < keep.size(); j++) out.Set(j, keep[j]);
    return out;
  }

  /** One connection (codec.ts layout) into the aggregates: Diagnoser.add(c, synAckTtl). Returns the next row's index. */
  size_t connection(const double* a, size_t i) {
    const double id = a[i++];
    const double ipVersion = a[i++];
    const double outcomeX = a[i++];
    i++;  // zeekState
    i = addrText(a, i, client_);
    i++;  // client port
    i = addrText(a, i, server_);
    const double serverPort = a[i++];
    const double syn = a[i++];
    const double synAck = a[i++];
    const int bits = (int)a[i++];
    const bool hasRst = (bits & B_RST) != 0;
    const bool rstFromClient = (bits & B_RST_SERVER) == 0;
    double rstFrame = 0, rstTtl = 0, forgedReasonX = 0;
    if (hasRst) {
      i++;  // ts
      rstFrame = a[i++];
      rstTtl = a[i++];
      forgedReasonX = a[i++];
    }
    const bool hasIcmp = (bits & B_ICMP) != 0;
    double icmpType = 0, icmpCode = 0;
    if (hasIcmp) {
      icmpType = a[i++];
      icmpCode = a[i++];
      i = addrText(a, i, icmpFrom_);
      i += 2;  // ts, frame
    }
    const double dataRetrans = a[i++];
    i++;  // duplicates
    const bool hasRtt = (bits & B_RTT) != 0;
    double rttSyn = 0, rttTotal = 0;
    if (hasRtt) {
      rttSyn = a[i++];
      i++;  // synAckToAck
      rttTotal = a[i++];
    }
    if (bits & B_OPTS) i += 2;
    const double packetsClient = a[i++];
    const double packetsServer = a[i++];
    i += 2;  // bytes
    const double firstTs = a[i++];
    const double lastTs = a[i++];
    const size_t nf = (size_t)a[i++];
    const Span frames{a + i, a + i + nf};
    i += nf;
    const size_t nl = (size_t)a[i++];
    const double* ladder = a + i;
    i += nl * 9;
    const double synAckTtl = a[i++];
    auto step = [ladder](size_t j) { return Step{ladder + 9 * j}; };
    const bool truncated = (bits & B_TRUNC) != 0;

    int outcome = -1;
    if (outcomeX >= 0) {
      outcome = (int)outcomeX;
    } else {
      const std::u16string& t = str(outcomeX);
      for (int o = 0; o < OUTCOME_COUNT; o++)
        if (t == std::u16string(OUTCOME_NAMES[o], OUTCOME_NAMES[o] + std::strlen(OUTCOME_NAMES[o]))) outcome = o;
    }

    total_++;
    Dest& d = dest(server_, serverPort);
    d.attempts++;
    if (outcome >= 0 && outcome < OUTCOME_COUNT) d.outcomes[outcome]++;
    d.addClient(client_);
    d.synRetrans += std::max(syn - 1, 0.0);
    d.synAckRetrans += std::max(synAck - 1, 0.0);
    d.dataRetrans += dataRetrans;
    d.packets += packetsClient + packetsServer;
    if (synAck > 0) {
      auto ht = hostTtls_.find(server_);
      if (ht == hostTtls_.end() && (double)hostTtls_.size() < maxDestinations_) {
        ht = hostTtls_.emplace(server_, std::vector<double>()).first;
        hostOrder_.push_back(&ht->first);
      }
      if (ht != hostTtls_.end() && ht->second.size() < 8) {
        double t = -1;
        bool have = false;
        if (synAckTtl >= 0) {
          t = synAckTtl;
          have = true;
        } else {
          for (size_t j = 0; j < nl; j++) {
            const Step s = step(j);
            if (side(s.from()) == FROM_SERVER && flagsIs(s.flags(), 0x12, u"SYN,ACK")) {
              t = s.ttl();
              have = true;
              break;
            }
          }
        }
        if (have) addToSet(ht->second, t);
      }
    }
    if (hasRtt) {
      d.rttSyn.add(rttSyn);
      d.rttTotal.add(rttTotal);
      globalRtt_.add(rttTotal);
    }
    const bool forged = hasRst && (bits & B_FORGED) != 0;
    if (forged && !d.hasForgedReason && forgedReasonX != 0) {
      d.hasForgedReason = true;
      d.forgedReason = str(forgedReasonX);
    }
    const double rstFrames[1] = {rstFrame};
    const Span rstSpan{rstFrames, rstFrames + (hasRst ? 1 : 0)};

    switch (outcome) {
      case O_UNANSWERED: {
        const double retries = std::max(0.0, syn - 1);
        d.unansweredSyns += syn;
        if (retries < d.minRetries) d.minRetries = retries;
        if (retries > d.maxRetries) d.maxRetries = retries;
        const double span = lastTs - firstTs;
        if (span > d.maxSpanS) d.maxSpanS = span;
        note(d, K_SILENT_DROP, id, frames);
        break;
      }
      case O_PENDING:
        if (syn > 1) {
          d.pendingRetried++;
          d.pendingSyns += syn;
          if (lastTs - firstTs > d.pendingMaxSpanS) d.pendingMaxSpanS = lastTs - firstTs;
          note(d, K_SILENT_DROP, id, frames);
        }
        break;
      case O_REFUSED:
        if (hasRst) addToSet(d.rstTtls, rstTtl);
        if (forged) {
          d.refusedForged++;
          note(d, K_FORGED_RST, id, rstSpan);
        }
        note(d, K_REFUSED, id, frames);
        break;
      case O_ICMP_REJECTED:
        if (hasIcmp) {
          IcmpAgg* g = nullptr;
          for (IcmpAgg& x : d.icmp)
            if (x.type == icmpType && x.code == icmpCode && x.from == icmpFrom_) g = &x;
          if (g != nullptr)
            g->n++;
          else if (d.icmp.size() < 16)
            d.icmp.push_back(IcmpAgg{icmpType, icmpCode, icmpFrom_, ipVersion, 1});
        }
        note(d, K_ICMP_REJECTED, id, frames);
        break;
      case O_SYNACK_UNACKED: {
        if (hasRst && rstFromClient) d.unackedClientRst++;
        bool sawSynAck = false;
        for (size_t j = 0; j < nl; j++) {
          const Step s = step(j);
          const int from = side(s.from());
          if (from == FROM_SERVER && flagsIs(s.flags(), 0x12, u"SYN,ACK"))
            sawSynAck = true;
          else if (sawSynAck && from == FROM_CLIENT && flagsIs(s.flags(), 0x02, u"SYN") && !noteIs(s.note(), NOTE_DUP, u"duplicate")) {
            d.unackedClientResentSyn++;
            break;
          }
        }
        note(d, K_SYNACK_UNACKED, id, frames);
        break;
      }
      case O_ABORTED_BY_CLIENT:
        note(d, K_ABORTED, id, frames);
        break;
      case O_RESET:
        if (hasRst && rstFromClient)
          d.resetByClient++;
        else
          d.resetByServer++;
        if (forged) {
          d.resetForged++;
          note(d, K_FORGED_RST, id, rstSpan);
        }
        if (hasRst)
          note(d, K_RESET_AFTER, id, rstSpan);
        else
          note(d, K_RESET_AFTER, id, frames);
        break;
      default:
        break;
    }
    if (outcome == O_ESTABLISHED || outcome == O_CLOSED || outcome == O_RESET) {
      d.handshakes++;
      handshakesOk_++;
      if (syn > 1) {
        d.retried++;
        d.retriedExtraSyns += syn - 1;
        // retryDelayMs(): the first SYN to the SYN that was answered
        double lastSyn = -1;
        for (size_t j = 0; j < nl; j++) {
          const Step s = step(j);
          const int from = side(s.from());
          if (from == FROM_SERVER && flagsStartSyn(s.flags())) break;
          if (from == FROM_CLIENT && flagsIs(s.flags(), 0x02, u"SYN") && !noteIs(s.note(), NOTE_DUP, u"duplicate")) lastSyn = s.ts();
        }
        if (!(lastSyn < 0)) {
          const double added = (lastSyn - firstTs) * 1000;
          d.retriedAddedMsSum += added;
          d.retriedAddedCount++;
          if (added > d.retriedAddedMsMax) d.retriedAddedMsMax = added;
        }
        note(d, K_RETRIED, id, frames);
      }
    }
    if (dataRetrans > 0) {
      frames_.clear();
      double lastLadder = 0;
      for (size_t j = 0; j < nl; j++) {
        const Step s = step(j);
        if (noteIs(s.note(), NOTE_RETRANS, u"retransmission") && !flagsHaveSyn(s.flags())) frames_.push_back(s.frame());
        lastLadder = s.frame();
      }
      if (truncated)
        for (double f : frames) {
          if (f > lastLadder) frames_.push_back(f);
        }
      note(d, K_DATA_RETRANS, id, frames_);
    }
    return i;
  }

  static void addToSet(std::vector<double>& set, double v) {
    // Set semantics (SameValueZero): NaN equals NaN, -0 equals 0.
    for (double x : set)
      if (x == v || (std::isnan(x) && std::isnan(v))) return;
    set.push_back(v);
  }

  // ---- state(): the aggregates as numbers (diagnose.ts StateReader reads them in this order)

  /**
   * A string of the export: its number in the string list. Strings go out as
   * UTF-16 code units in one buffer; one with a lone surrogate (never one the
   * tracker makes) in a second buffer the JS side turns into a string code
   * unit by code unit (a JavaScript string made from UTF-16 by N-API turns a
   * lone surrogate into U+FFFD).
   */
  double putString(const std::u16string& s) {
    bool lone = false;
    for (size_t j = 0; j < s.size() && !lone; j++) {
      const char16_t c = s[j];
      if (c >= 0xd800 && c <= 0xdbff) {
        if (j + 1 < s.size() && s[j + 1] >= 0xdc00 && s[j + 1] <= 0xdfff)
          j++;
        else
          lone = true;
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        lone = true;
      }
    }
    std::u16string& buf = lone ? odd_ : plain_;
    strs_.push_back(lone ? 1 : 0);
    strs_.push_back((double)buf.size());
    buf += s;
    strs_.push_back((double)buf.size());
    return (double)(strs_.size() / 3 - 1);
  }

  static void putList(std::vector<double>& o, const std::vector<double>& v) {
    o.push_back((double)v.size());
    o.insert(o.end(), v.begin(), v.end());
  }

  /** diagnose.ts StateReader.dest(). */
  void putDest(std::vector<double>& o, const Dest& d) {
    o.push_back(putString(d.ip));
    o.push_back(d.port);
    o.push_back(d.attempts);
    o.insert(o.end(), d.outcomes, d.outcomes + OUTCOME_COUNT);
    if (d.clientBits.empty()) {
      o.push_back((double)d.clientSet.size());
      o.push_back(-1);
    } else {
      // diagnose.ts clientCount(): the estimate from the bits still 0
      double zeros = 0;
      for (uint32_t w : d.clientBits) zeros += 32 - __builtin_popcount(w);
      o.push_back(0);
      o.push_back(zeros);
    }
    o.push_back(d.synRetrans);
    o.push_back(d.synAckRetrans);
    o.push_back(d.dataRetrans);
    o.push_back(d.packets);
    d.rttSyn.put(o);
    d.rttTotal.put(o);
    o.push_back(d.unansweredSyns);
    o.push_back(d.minRetries);
    o.push_back(d.maxRetries);
    o.push_back(d.maxSpanS);
    o.push_back(d.pendingRetried);
    o.push_back(d.pendingSyns);
    o.push_back(d.pendingMaxSpanS);
    o.push_back(d.refusedForged);
    o.push_back(d.resetForged);
    o.push_back(d.hasForgedReason ? putString(d.forgedReason) : -1);
    putList(o, d.rstTtls);
    o.push_back(d.resetByClient);
    o.push_back(d.resetByServer);
    o.push_back((double)d.icmp.size());
    for (const IcmpAgg& g : d.icmp) {
      o.push_back(g.type);
      o.push_back(g.code);
      o.push_back(putString(g.from));
      o.push_back(g.ipVersion);
      o.push_back(g.n);
    }
    o.push_back(d.unackedClientRst);
    o.push_back(d.unackedClientResentSyn);
    o.push_back(d.handshakes);
    o.push_back(d.retried);
    o.push_back(d.retriedExtraSyns);
    o.push_back(d.retriedAddedMsSum);
    o.push_back(d.retriedAddedMsMax);
    o.push_back(d.retriedAddedCount);
    double used = 0;
    for (const Evidence& e : d.evidence) used += e.used ? 1 : 0;
    o.push_back(used);
    for (int k = 0; k < K_COUNT; k++) {
      const Evidence& e = d.evidence[k];
      if (!e.used) continue;
      o.push_back(k);
      o.push_back(e.examplesKept);
      putList(o, e.frames);
      putList(o, e.ids);
    }
  }

  std::vector<double> strs_;  // per string: 0 plain / 1 odd, start, end
  std::u16string plain_, odd_;

  /**
   * state(), once, at the end: everything Diagnoser.restore() needs, as {nums, strs, plain, odd}
   * (diagnose.ts StateReader): a handful of values however many destinations.
   * (One JavaScript object per destination and field, made here, held a
   * 100 000-destination scan's writer thread in the garbage collector for
   * seconds.)
   */
  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<double> o;
    strs_.clear();
    plain_.clear();
    odd_.clear();
    o.push_back(total_);
    o.push_back(handshakesOk_);
    o.push_back(destCount_);
    o.push_back(otherConnections_);
    globalRtt_.put(o);
    o.insert(o.end(), examplesPerKind_, examplesPerKind_ + K_COUNT);
    o.push_back((double)hostOrder_.size());
    for (const std::u16string* ip : hostOrder_) {
      o.push_back(putString(*ip));
      putList(o, hostTtls_.at(*ip));
    }
    // by address first seen, then port first seen: diagnose.ts's Map<ip, Map<port, DestAgg>> order
    o.push_back(hasOther_ ? 1 : 0);
    o.push_back((double)dests_.size());
    for (const std::u16string* ip : ipOrder_)
      for (uint32_t idx : ips_.at(*ip).dests) putDest(o, dests_[idx]);
    if (hasOther_) putDest(o, other_);
    // Read once, at the end: the aggregates' memory goes back before the JS side rebuilds them.
    std::vector<Dest>().swap(dests_);
    decltype(ips_)().swap(ips_);
    ipOrder_.clear();
    decltype(hostTtls_)().swap(hostTtls_);
    hostOrder_.clear();
    other_ = Dest();
    hasOther_ = false;

    Napi::Object r = Napi::Object::New(env);
    Napi::Float64Array nums = Napi::Float64Array::New(env, o.size());
    std::copy(o.begin(), o.end(), nums.Data());
    r.Set("nums", nums);
    Napi::Float64Array strs = Napi::Float64Array::New(env, strs_.size());
    std::copy(strs_.begin(), strs_.end(), strs.Data());
    r.Set("strs", strs);
    r.Set("plain", Napi::String::New(env, plain_));
    Napi::Uint16Array odd = Napi::Uint16Array::New(env, odd_.size());
    std::copy(odd_.begin(), odd_.end(), odd.Data());
    r.Set("odd", odd);
    return r;
  }
};

}  // namespace

void InitDiagnoser(Napi::Env env, Napi::Object exports) { Diagnoser::Init(env, exports); }
