// The flow tracker's per-packet core, compiled: the same state machine as
// src/flows/tracker.ts (which stays the reference and the fallback), written
// for memory that stays in cache (one struct per connection, no boxed
// numbers, no garbage collector walking a million flows).
//
// What it must match, field for field and in the same order:
// src/flows/tracker.ts with the same options (its compact tier included), the
// fast path of src/decode/decode.ts, and the connection layout of
// src/flows/codec.ts. test/flows/native.test.ts runs both on every bundled
// capture, tcpdump's corpus and generated ones and compares the reports.
// Every function here names the one it follows in tracker.ts; read that one
// for the why.
//
// The JS side (src/flows/native.ts) binds each record batch and calls
// scan(i): records of the common shape are decoded and tracked here; any
// other is decoded in JavaScript and packed into two bound typed arrays
// (IN_* below), tracked here before the next record scan() takes (or by
// run(n)). drain() copies the finished connections into its ConnectionEncoder.
// Texts are made on the JS side: a forged-RST reason and an ICMP step's
// flags text leave here as patches (position + the numbers the text needs).

#include <napi.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "batch.h"

namespace {

// ---- input layout (src/flows/native.ts writes it; keep the two in step)
constexpr int IN_STRIDE = 32;
constexpr int I_KIND = 0;  // 1 TCP, 2 ICMP unreachable
constexpr int I_IPV = 1;
constexpr int I_SRC = 2;   // 4 words (ICMP: the ICMP sender)
constexpr int I_DST = 6;   // 4 words (ICMP: the quoted source)
constexpr int I_SPORT = 10;
constexpr int I_DPORT = 11;
constexpr int I_FLAGS = 12;  // ICMP: type
constexpr int I_SEQ = 13;    // ICMP: code
constexpr int I_ACK = 14;    // ICMP: quoted seq
constexpr int I_LEN = 15;
constexpr int I_WIN = 16;
constexpr int I_TTL = 17;
constexpr int I_IPID = 18;
constexpr int I_SIG = 19;
constexpr int I_MSS = 20;
constexpr int I_WS = 21;
constexpr int I_OPTBITS = 22;  // 1 sackPermitted, 2 hasTimestamps
constexpr int I_INNER_IPV = 24;
constexpr int I_INNER_PROTO = 25;
constexpr int I_INNER_BITS = 26;  // 1 hasPorts, 2 hasSeq
constexpr int I_INNER_FLAGS = 27;
constexpr int I_INNER_DST = 28;  // 4 words
constexpr int IN_F64_STRIDE = 2;  // ts, frame

// ---- stats layout (a Float64Array the JS side reads after each call)
constexpr int S_ACTIVE = 0;
constexpr int S_PEAK = 1;
constexpr int S_EVICTED = 2;
constexpr int S_DUPLICATES = 3;
constexpr int S_OUT = 4;       // doubles waiting for drain()
constexpr int S_CONNS = 5;     // connections waiting
constexpr int S_PATCHES = 6;   // patch records waiting (PATCH_STRIDE numbers each)
constexpr int S_LEN = 8;

// ---- scan() counters (a Float64Array: src/flows/native.ts A_*)
constexpr int A_PACKETS = 0, A_BYTES = 1, A_TCP = 2, A_TRUNCATED = 3, A_FIRST_SEC = 4, A_FIRST_NSEC = 5, A_LAST_SEC = 6,
              A_LAST_NSEC = 7, A_ETHERNET = 8, A_RAN_PENDING = 9, A_LEN = 10;

constexpr int PATCH_STRIDE = 13;
constexpr int P_FORGED = 1;
constexpr int P_ICMP_FLAGS = 2;

constexpr uint32_t FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

constexpr double DUPLICATE_WINDOW_S = 0.01;
constexpr double CLOSE_LINGER_S = 2;
constexpr double SYN_GRACE_S = 30;
constexpr double OOO_DEFAULT_S = 0.003;
constexpr double FAST_RETRANS_S = 0.02;
constexpr int MAX_FRAMES = 32;
constexpr int RETRANS_FRAMES = 8;
constexpr int TTL_LEARN_PACKETS = 3;


// PROBLEM_OUTCOMES (connection.ts) by outcome code
constexpr bool PROBLEM_CODE[10] = {true, true, true, true, true, false, false, true, false, false};


constexpr int AUX_NONE = 0, AUX_SYN_WAIT = 1, AUX_CLOSED = 2;

// Compact tier (tracker.ts K_*, REC_*): SYN-only connections as small records
constexpr int32_t REC_TS = 1 << 17;
constexpr int32_t REC_DUP = 1 << 19;
constexpr int32_t REC_SERVER = 1 << 20;
constexpr int32_t K_CLOSED = 1 << 16;
constexpr int K_MAX_SYNS = 8;
constexpr int EMIT_FINISH = 0, EMIT_DUE = 1, EMIT_EVICT = 2, EMIT_LINGER = 3, EMIT_REUSE = 4;

inline bool seqLt(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b) < 0; }
inline bool seqLe(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b) <= 0; }
inline bool seqGt(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b) > 0; }
inline int32_t add32(int32_t a, int64_t b) { return (int32_t)(uint32_t)((uint64_t)(int64_t)a + (uint64_t)b); }
/** (a - b) >>> 0 on two int32 values. */
inline double rel(int32_t a, int32_t b) { return (double)(uint32_t)((uint32_t)a - (uint32_t)b); }


inline uint32_t imul(uint32_t a, uint32_t b) { return a * b; }

uint32_t endpointHash(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, uint32_t port) {
  uint32_t h = imul(w0 ^ 0x27d4eb2fu, 0x85ebca6bu);
  h = imul(h ^ (h >> 15) ^ w1, 0xc2b2ae35u);
  h = imul(h ^ (h >> 13) ^ w2, 0x85ebca6bu);
  h = imul(h ^ (h >> 16) ^ w3, 0xc2b2ae35u);
  h = imul(h ^ (h >> 15) ^ port, 0x27d4eb2fu);
  return h ^ (h >> 16);
}

// ---------------------------------------------------------------- TTL table (ttl.ts AddressTtlTable)

int initialTtl(int ttl) { return ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255; }
int hopsOf(int ttl) { return initialTtl(ttl) - ttl; }

class TtlTable {
 public:
  static constexpr int WAYS = 4, STRIDE = 16;
  static constexpr int F_VER = 0, F_A0 = 1, F_TTL = 5, F_AGREE = 6, F_DISAGREE = 7, F_LAST_IPID = 8, F_IPID_SAMPLES = 9;

  TtlTable() : mask_((1u << 16) - 1), t_(((size_t)1 << 16) * STRIDE, 0) {}

  static uint32_t hash(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
    uint32_t h = imul(w0 ^ 0x9e3779b9u, 0x85ebca6bu);
    h = imul(h ^ w1 ^ (h >> 13), 0xc2b2ae35u);
    h = imul(h ^ w2 ^ (h >> 16), 0x85ebca6bu);
    h = imul(h ^ w3 ^ (h >> 13), 0xc2b2ae35u);
    return h ^ (h >> 16);
  }

  bool holds(int s, int v, const uint32_t* a) const {
    const int32_t* T = &t_[(size_t)s * STRIDE];
    return T[F_VER] == v && T[F_A0] == (int32_t)a[0] && T[F_A0 + 1] == (int32_t)a[1] && T[F_A0 + 2] == (int32_t)a[2] &&
           T[F_A0 + 3] == (int32_t)a[3];
  }

  int find(int v, const uint32_t* a, bool create) {
    const uint32_t base = (hash(a[0], a[1], a[2], a[3]) & mask_) & ~(uint32_t)(WAYS - 1);
    int victim = -1;
    double victimScore = std::numeric_limits<double>::infinity();
    for (int i = 0; i < WAYS; i++) {
      const int s = (int)base + i;
      if (holds(s, v, a)) return s;
      const int32_t* T = &t_[(size_t)s * STRIDE];
      const double score = T[F_VER] == 0 ? -1 : (double)T[F_AGREE] + (double)T[F_DISAGREE];
      if (score < victimScore) {
        victimScore = score;
        victim = s;
      }
    }
    if (!create) return -1;
    int32_t* T = &t_[(size_t)victim * STRIDE];
    T[F_VER] = v;
    for (int k = 0; k < 4; k++) T[F_A0 + k] = (int32_t)a[k];
    T[F_TTL] = T[F_AGREE] = T[F_DISAGREE] = T[F_LAST_IPID] = T[F_IPID_SAMPLES] = 0;
    return victim;
  }

  int learnHinted(int hint, int v, const uint32_t* a, int ttl, int ipId) {
    int s = hint;
    if (s < 0 || !holds(s, v, a)) s = find(v, a, true);
    learnAt(s, ttl, ipId);
    return s;
  }

  void learnAt(int s, int ttl, int ipId) {
    int32_t* T = &t_[(size_t)s * STRIDE];
    const int32_t agree = T[F_AGREE], disagree = T[F_DISAGREE];
    if (agree == 0 && disagree == 0) {
      T[F_TTL] = ttl;
      T[F_AGREE] = 1;
    } else if (T[F_TTL] == ttl) {
      if (agree < 0x7fffffff) T[F_AGREE] = agree + 1;
    } else {
      const int32_t d = disagree < 0x7fffffff ? disagree + 1 : disagree;
      T[F_DISAGREE] = d;
      if ((int64_t)d > (int64_t)agree * 2) {
        T[F_TTL] = ttl;
        T[F_AGREE] = 1;
        T[F_DISAGREE] = 0;
      }
    }
    if (ipId >= 0) {
      T[F_LAST_IPID] = ipId + 1;
      const int32_t n = T[F_IPID_SAMPLES];
      if (n < 0x7fffffff) T[F_IPID_SAMPLES] = n + 1;
    }
  }

  /**
   * judgeRst: false, or true with what the reason text needs in p (agree,
   * ref, ipIdFar, last): ttl.ts forgedReason() writes the text.
   */
  bool judgeRst(int v, const uint32_t* a, int rstTtl, int rstIpId, double* p) {
    const int minEvidence = 3;
    const int s = find(v, a, false);
    if (s < 0) return false;
    const int32_t* T = &t_[(size_t)s * STRIDE];
    const int64_t agree = T[F_AGREE], disagree = T[F_DISAGREE];
    const int ref = T[F_TTL];
    if (agree < minEvidence || disagree * 10 > agree) return false;
    if (ref == rstTtl) return false;
    if (hopsOf(ref) == hopsOf(rstTtl)) return false;
    const int64_t last = (int64_t)T[F_LAST_IPID] - 1;
    bool far = false;
    if (v == 4 && rstIpId >= 0 && last >= 0 && T[F_IPID_SAMPLES] >= minEvidence) {
      const int64_t d1 = (rstIpId - last) & 0xffff, d2 = (last - rstIpId) & 0xffff;
      if (std::min(d1, d2) > 1024) far = true;
    }
    p[0] = (double)agree;
    p[1] = ref;
    p[2] = far ? 1 : 0;
    p[3] = (double)last;
    return true;
  }

 private:
  uint32_t mask_;
  std::vector<int32_t> t_;
};

// ---------------------------------------------------------------- flows

struct Dir {
  double packets = 0;
  double bytes = 0;
  bool seen = false;
  bool synSeen = false;
  bool finSeen = false;
  bool rstSeen = false;
  bool nextKnown = false;
  bool maxKnown = false;
  bool lastWasKeepAlive = false;
  bool lastWasZwp = false;
  int32_t isn = 0;
  int32_t base = 0;
  int32_t nextseq = 0;
  int32_t maxSeqToBeAcked = 0;
  int32_t lastack = 0;
  int32_t window = -1;
  int32_t dupacknum = 0;
  int32_t ttlSlot = -1;
  double nextseqTs = 0;
  double lastackTs = 0;
  // duplicate detection: the last two packets' signatures
  int32_t d0IpId = -2, d0Seq = 0, d0Ack = 0, d0Win = 0, d0Sig = 0;
  int32_t d1IpId = -2, d1Seq = 0, d1Ack = 0, d1Win = 0, d1Sig = 0;
  double d0FlagsLen = 0, d0Ts = -1e18, d0Rev = 0;
  double d1FlagsLen = 0, d1Ts = -1e18, d1Rev = 0;
};


struct Step {
  double frame;
  double ts;
  int32_t seq;
  int32_t ack;
  uint32_t len;     // payload length (ICMP steps: type * 256 + code)
  uint32_t packed;  // flags | ttl << 9 | from << 17 | note << 19
};

/** Ladder steps kept in the flow itself (the pipeline keeps 12); more go to `more`. */
constexpr uint32_t LADDER_INLINE = 12;

/** One SYN (or the RST ending it) of a compact flow: tracker.ts SynRecords, a row. */
struct Rec {
  double frame = 0;
  double ts = 0;
  int32_t seq = 0, ack = 0, ipId = 0, sig = 0, len = 0;
  int32_t pack = 0;  // flags | ttl << 9 | REC_TS | REC_DUP | REC_SERVER
  int32_t link = 0;  // rB only: the flow's previous later record + 1 (0 = its first SYN, in the slot)
  uint16_t win = 0;
};

/** A compact (SYN-only) flow: tracker.ts's k* columns, a row. Links are slot + 1 (0 = none). */
struct KSlot {
  double id = 0;
  double touch = 0;
  int32_t prev = 0, next = 0;
  uint32_t ca0 = 0, sa0 = 0;
  uint32_t a6[6] = {0, 0, 0, 0, 0, 0};  // words 1-3 of client and server (IPv6)
  int32_t ports = 0;  // cp << 16 | sp
  int32_t info = 0;   // ipVersion | records << 8 | K_CLOSED
  int32_t opt = 0;    // (mss + 1) | (windowScale + 1) << 17 | sackPermitted << 26
  int32_t r2 = 0;     // the latest later record in rB, + 1
  Rec a;              // the first SYN
};

/**
 * A compact slot's hash and chain link, apart from the slot: a lookup walks
 * only these 8 bytes per slot (a flood's table is ~130 MB of slots; the
 * links of a million fit in 8 MB).
 */
struct KLink {
  uint32_t hash = 0;
  int32_t next = 0;  // next slot in the bucket + 1; on the free stack, the next free slot + 1
};

struct Flow {
  Flow* hnext = nullptr;
  Flow* auxPrev = nullptr;
  Flow* auxNext = nullptr;
  /** Next free flow while pooled. */
  Flow* freeNext = nullptr;
  uint32_t hash = 0;
  int aux = AUX_NONE;
  double id = 0;
  /** Tracker touch counter of the last packet; -1 = not in the table. */
  double touch = -1;
  int ipv = 4;
  uint32_t ca[4] = {0, 0, 0, 0};
  uint32_t sa[4] = {0, 0, 0, 0};
  int cp = 0, sp = 0;
  /**
   * Per-direction state, in the flow itself: one allocation, and a packet's
   * flow, direction states and ladder slot are at addresses known from the
   * flow's, so their cache misses overlap. (A side that has sent nothing
   * reads as fresh state, as tracker.ts's shared NO_PACKETS does.)
   */
  Dir cD, sD;
  Dir* const c = &cD;
  Dir* const s = &sD;

  double firstTs = 0, lastTs = 0, endTs = 0;
  bool ended = false;
  bool mruSynSet = false;
  bool hsSet = false;
  bool hsAnswersSyn = false;
  bool hsRttSet = false;
  bool handshakeDone = false;
  bool optSack = false;
  bool optTs = false;
  double syn = 0, synAck = 0;
  double firstSynTs = 0, lastSynTs = 0, prevSynTs = 0, mruSynTs = 0, firstRtt = 0;
  double hsSynAckTs = 0, hsSynForSynAckTs = 0, hsLastSynAckTs = 0, hsAckTs = 0;
  double hsSynToSynAckMs = 0, hsSynAckToAckMs = 0, hsTotalMs = 0;
  int synAckTtl = -1, optMss = -1, optWs = -1;
  double dataRetrans = 0, duplicates = 0;
  int rstFrom = 0;
  int rstTtl = 0;
  int rstIpId = -1;
  double rstTs = 0, rstFrame = 0;
  int icmpType = -1, icmpCode = 0, icmpIpv = 4;
  uint32_t icmpA[4] = {0, 0, 0, 0};
  double icmpTs = 0, icmpFrame = 0;
  double frames[MAX_FRAMES];
  uint32_t framesN = 0;
  uint32_t ladderN = 0;
  Step ladderIn[LADDER_INLINE];
  std::vector<Step> ladderMore;  // steps past LADDER_INLINE (ladderLimit above 12: library use)
  double ladderSeen = 0;

  void reset() {
    hnext = auxPrev = auxNext = nullptr;
    aux = AUX_NONE;
    touch = -1;
    cD = Dir{};
    sD = Dir{};
    firstTs = lastTs = endTs = 0;
    ended = mruSynSet = hsSet = hsAnswersSyn = hsRttSet = handshakeDone = optSack = optTs = false;
    syn = synAck = 0;
    firstSynTs = lastSynTs = prevSynTs = mruSynTs = firstRtt = 0;
    hsSynAckTs = hsSynForSynAckTs = hsLastSynAckTs = hsAckTs = 0;
    hsSynToSynAckMs = hsSynAckToAckMs = hsTotalMs = 0;
    synAckTtl = optMss = optWs = -1;
    dataRetrans = duplicates = 0;
    rstFrom = rstTtl = 0;
    rstIpId = -1;
    rstTs = rstFrame = 0;
    icmpType = -1;
    icmpCode = 0;
    icmpTs = icmpFrame = 0;
    framesN = 0;
    ladderN = 0;
    ladderMore.clear();
    ladderSeen = 0;
  }

  const Step& step(uint32_t k) const { return k < LADDER_INLINE ? ladderIn[k] : ladderMore[k - LADDER_INLINE]; }
};

/** One packet's fields, read from the input arrays. */
struct Pkt {
  const int32_t* r;
  double ts;
  double frame;
  int ipv() const { return r[I_IPV]; }
  const uint32_t* src() const { return reinterpret_cast<const uint32_t*>(r + I_SRC); }
  const uint32_t* dst() const { return reinterpret_cast<const uint32_t*>(r + I_DST); }
  int srcPort() const { return r[I_SPORT]; }
  int dstPort() const { return r[I_DPORT]; }
  uint32_t flags() const { return (uint32_t)r[I_FLAGS]; }
  int32_t seq() const { return r[I_SEQ]; }
  int32_t ack() const { return r[I_ACK]; }
  double len() const { return (double)(uint32_t)r[I_LEN]; }
  int window() const { return r[I_WIN]; }
  int ttl() const { return r[I_TTL]; }
  int ipId() const { return r[I_IPID]; }
  int32_t sig() const { return r[I_SIG]; }
};

class Tracker : public Napi::ObjectWrap<Tracker> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Tracker",
                                   {InstanceMethod("bind", &Tracker::Bind), InstanceMethod("run", &Tracker::Run),
                                    InstanceMethod("finishSome", &Tracker::FinishSome),
                                    InstanceMethod("drain", &Tracker::Drain),
                                    InstanceMethod("bindBatch", &Tracker::BindBatch),
                                    InstanceMethod("scan", &Tracker::Scan)});
    exports.Set("Tracker", f);
    return exports;
  }

  explicit Tracker(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracker>(info) {
    Napi::Object o = info[0].As<Napi::Object>();
    synTimeoutS_ = o.Get("synTimeoutS").As<Napi::Number>().DoubleValue();
    maxFlows_ = o.Get("maxFlows").As<Napi::Number>().DoubleValue();
    ladderLimit_ = o.Get("ladderLimit").As<Napi::Number>().DoubleValue();
    ladderProblemsOnly_ = o.Get("ladderProblemsOnly").As<Napi::Boolean>().Value();
    compactAbove_ = o.Get("compactAbove").As<Napi::Number>().DoubleValue();
    buckets_.assign(4096, nullptr);
    bucketMask_ = 4095;
    logSlot_.resize(1024);
  }

  ~Tracker() override {
    for (Flow* chunk : chunks_) delete[] chunk;
  }

 private:
  // ---- options
  double synTimeoutS_ = 3;
  double maxFlows_ = 1e6;
  double ladderLimit_ = 12;
  bool ladderProblemsOnly_ = false;
  double compactAbove_ = 8192;

  // ---- bound arrays
  Napi::Reference<Napi::Int32Array> inI32Ref_;
  Napi::Reference<Napi::Float64Array> inF64Ref_;
  Napi::Reference<Napi::Float64Array> statsRef_;
  const int32_t* inI32_ = nullptr;
  const double* inF64_ = nullptr;
  size_t inCap_ = 0;
  double* stats_ = nullptr;

  // ---- the record batch scan() reads (src/sources/record.ts RecordBatch), bound by bindBatch()
  Napi::ObjectReference batchRef_;
  const uint8_t* bData_ = nullptr;
  size_t bDataLen_ = 0;
  const uint32_t* bOffset_ = nullptr;
  const uint32_t* bCapLen_ = nullptr;
  const uint32_t* bOrigLen_ = nullptr;
  const uint32_t* bLinkType_ = nullptr;
  const uint8_t* bFcsLen_ = nullptr;
  const double* bTsSec_ = nullptr;
  const uint32_t* bTsNsec_ = nullptr;
  size_t bCount_ = 0;
  Napi::Reference<Napi::Float64Array> accRef_;
  double* acc_ = nullptr;

  // ---- table
  std::vector<Flow*> buckets_;
  uint32_t bucketMask_;
  std::vector<Flow*> chunks_;
  Flow* freeFlows_ = nullptr;
  double active_ = 0, peak_ = 0, evicted_ = 0, duplicates_ = 0;
  double nextId_ = 0;
  double maxTs_ = -std::numeric_limits<double>::infinity();
  double dueAt_ = -std::numeric_limits<double>::infinity();
  Flow* synHead_ = nullptr;
  Flow* synTail_ = nullptr;
  Flow* closedHead_ = nullptr;
  Flow* closedTail_ = nullptr;
  TtlTable ttl_;
  double touchSeq_ = 0;
  // LRU log (tracker.ts lruTouch/logStart/logCompact/leastRecent)
  bool logOn_ = false;
  struct LogEntry {
    Flow* f;
    double touch;
  };
  std::vector<LogEntry> logSlot_;
  size_t logHead_ = 0, logTail_ = 0;
  // finishSome()
  bool finished_ = false;
  bool finStarted_ = false;
  std::vector<Flow*> finRest_;
  size_t finI_ = 0;

  // ---- compact tier (tracker.ts kCreate & co.)
  std::vector<KSlot> k_;
  std::vector<KLink> kl_;
  double kActive_ = 0;
  int32_t kFreeTop_ = 0;
  int32_t kHead_ = 0, kTail_ = 0, kcHead_ = 0, kcTail_ = 0;
  std::vector<int32_t> kBuckets_;
  uint32_t kMask_ = 0;
  std::vector<Rec> rB_;
  std::vector<int32_t> rBFree_;
  bool replaying_ = false;
  std::vector<int32_t> finK_;
  size_t finJ_ = 0;

  // ---- output
  std::vector<double> out_;
  std::vector<uint8_t> outcomes_;
  std::vector<double> patches_;

  // ------------------------------------------------------------ JS entry points

  Napi::Value Bind(const Napi::CallbackInfo& info) {
    Napi::Int32Array a = info[0].As<Napi::Int32Array>();
    Napi::Float64Array b = info[1].As<Napi::Float64Array>();
    Napi::Float64Array s = info[2].As<Napi::Float64Array>();
    if (a.ElementLength() / IN_STRIDE != b.ElementLength() / IN_F64_STRIDE || s.ElementLength() < S_LEN) {
      Napi::TypeError::New(info.Env(), "Tracker.bind: array sizes do not match").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    inI32Ref_ = Napi::Persistent(a);
    inF64Ref_ = Napi::Persistent(b);
    statsRef_ = Napi::Persistent(s);
    inI32_ = a.Data();
    inF64_ = b.Data();
    inCap_ = a.ElementLength() / IN_STRIDE;
    stats_ = s.Data();
    publish();
    return info.Env().Undefined();
  }

  /** run(n): the first n packets of the bound arrays. */
  Napi::Value Run(const Napi::CallbackInfo& info) {
    runRows(std::min((size_t)info[0].As<Napi::Number>().Int64Value(), inCap_));
    publish();
    return info.Env().Undefined();
  }

  /** The first n packets of the bound input arrays (packed by the JavaScript side). */
  void runRows(size_t n) {
    for (size_t i = 0; i < n; i++) {
      Pkt p{inI32_ + i * IN_STRIDE, inF64_[i * IN_F64_STRIDE], inF64_[i * IN_F64_STRIDE + 1]};
      packet(p);
    }
  }

  /**
   * bindBatch(batch, acc): the record batch scan() reads, and the counters
   * it keeps for the pipeline (A_* below: what analyzeSource's loop counts
   * for each record).
   */
  Napi::Value BindBatch(const Napi::CallbackInfo& info) {
    Napi::Object b = info[0].As<Napi::Object>();
    Napi::Uint8Array data = b.Get("data").As<Napi::Uint8Array>();
    Napi::Uint32Array offset = b.Get("offset").As<Napi::Uint32Array>();
    Napi::Uint32Array capLen = b.Get("capLen").As<Napi::Uint32Array>();
    Napi::Uint32Array origLen = b.Get("origLen").As<Napi::Uint32Array>();
    Napi::Uint32Array linkType = b.Get("linkType").As<Napi::Uint32Array>();
    Napi::Uint8Array fcsLen = b.Get("fcsLen").As<Napi::Uint8Array>();
    Napi::Float64Array tsSec = b.Get("tsSec").As<Napi::Float64Array>();
    Napi::Uint32Array tsNsec = b.Get("tsNsec").As<Napi::Uint32Array>();
    size_t count = (size_t)b.Get("count").As<Napi::Number>().Int64Value();
    count = std::min({count, offset.ElementLength(), capLen.ElementLength(), origLen.ElementLength(), linkType.ElementLength(),
                      fcsLen.ElementLength(), tsSec.ElementLength(), tsNsec.ElementLength()});
    batchRef_ = Napi::Persistent(b);
    bData_ = data.Data();
    bDataLen_ = data.ElementLength();
    bOffset_ = offset.Data();
    bCapLen_ = capLen.Data();
    bOrigLen_ = origLen.Data();
    bLinkType_ = linkType.Data();
    bFcsLen_ = fcsLen.Data();
    bTsSec_ = tsSec.Data();
    bTsNsec_ = tsNsec.Data();
    bCount_ = count;
    Napi::Float64Array acc = info[1].As<Napi::Float64Array>();
    if (acc.ElementLength() < A_LEN) {
      Napi::TypeError::New(info.Env(), "Tracker.bindBatch: counters array too short").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    accRef_ = Napi::Persistent(acc);
    acc_ = acc.Data();
    return info.Env().Undefined();
  }

  /**
   * scan(i): decode and track the bound batch's records from i on, as long as
   * they take the common path (Ethernet, IPv4 without options or IPv6
   * without extension headers, TCP with no options or a common layout:
   * decode.ts decodeEthTcpFast, field for field). Returns the first record
   * it did not take (the JavaScript decoder does that one), or the count.
   */
  Napi::Value Scan(const Napi::CallbackInfo& info) {
    size_t i = (size_t)info[0].As<Napi::Number>().Int64Value();
    // Packets the JavaScript side decoded and packed before record i: tracked
    // here, first, but only when this call takes a record (a capture whose
    // records all go the JavaScript way keeps filling the input arrays, and
    // they run 4096 at a time, not one call per packet).
    size_t pending = std::min((size_t)info[1].As<Napi::Number>().Int64Value(), inCap_);
    bool ranPending = false;
    double* A = acc_;
    double packets = A[A_PACKETS], bytes = A[A_BYTES], tcp = A[A_TCP], truncated = A[A_TRUNCATED];
    double firstSec = A[A_FIRST_SEC], firstNsec = A[A_FIRST_NSEC], lastSec = A[A_LAST_SEC], lastNsec = A[A_LAST_NSEC];
    const double packets0 = packets;
    int32_t row[IN_STRIDE];
    for (; i < bCount_; i++) {
      if (bLinkType_[i] != 1) break;  // LINKTYPE_ETHERNET
      const uint32_t capLen = bCapLen_[i], origLen = bOrigLen_[i];
      // decode.ts decodePacket's position arithmetic
      int64_t o = bOffset_[i];
      int64_t capEnd = o + capLen;
      if (capEnd > (int64_t)bDataLen_) capEnd = (int64_t)bDataLen_;
      const int64_t orig = origLen > capLen ? origLen : capLen;
      int64_t wireEnd = o + orig - bFcsLen_[i];
      if (wireEnd < o) wireEnd = o;
      if (capEnd > wireEnd) capEnd = wireEnd;
      if (o > capEnd) o = capEnd;
      if (o + 54 > capEnd || !fastDecode(o, capEnd, wireEnd, row)) break;
      if (pending > 0) {
        runRows(pending);
        pending = 0;
        ranPending = true;
      }
      packets++;
      bytes += capLen;
      tcp++;
      if (capEnd < wireEnd) truncated++;
      const double sec = bTsSec_[i];
      const double nsec = bTsNsec_[i];
      if (sec < firstSec || (sec == firstSec && nsec < firstNsec)) {
        firstSec = sec;
        firstNsec = nsec;
      }
      if (sec > lastSec || (sec == lastSec && nsec > lastNsec)) {
        lastSec = sec;
        lastNsec = nsec;
      }
      Pkt p{row, sec + nsec * 1e-9, packets};
      packet(p);
    }
    A[A_PACKETS] = packets;
    A[A_BYTES] = bytes;
    A[A_TCP] = tcp;
    A[A_TRUNCATED] = truncated;
    A[A_FIRST_SEC] = firstSec;
    A[A_FIRST_NSEC] = firstNsec;
    A[A_LAST_SEC] = lastSec;
    A[A_LAST_NSEC] = lastNsec;
    A[A_ETHERNET] = packets - packets0;
    A[A_RAN_PENDING] = ranPending ? 1 : 0;
    publish();
    return Napi::Number::New(info.Env(), (double)i);
  }

  static uint32_t be32(const uint8_t* p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
  }

  /** decode.ts decodeEthTcpFast + fillTcp + parseCommonTcpOptions into an input row; false = not the common path. */
  bool fastDecode(int64_t o, int64_t capEnd, int64_t wireEnd, int32_t* r) const {
    const uint8_t* d = bData_;
    const int64_t ip = o + 14;
    const uint32_t typeVer = be32(d + o + 12);
    int64_t t, segEnd;
    uint32_t offFlagsWin;
    int64_t hdrLen;
    if ((typeVer & 0xffffff00u) == 0x08004500u) {
      const uint32_t fragTtlProto = be32(d + ip + 6);
      if ((fragTtlProto & 0x3fff00ffu) != 6) return false;
      const uint32_t lenId = be32(d + ip + 2);
      int64_t totalLen = lenId >> 16;
      if (totalLen == 0 || ip + totalLen > wireEnd) totalLen = wireEnd - ip;
      t = ip + 20;
      offFlagsWin = be32(d + t + 12);
      hdrLen = (offFlagsWin >> 28) << 2;
      if (hdrLen < 20 || 20 + hdrLen > totalLen) return false;
      r[I_IPV] = 4;
      r[I_TTL] = (int32_t)((fragTtlProto >> 8) & 0xff);
      r[I_IPID] = (int32_t)(lenId & 0xffff);
      r[I_SRC] = (int32_t)be32(d + ip + 12);
      r[I_SRC + 1] = r[I_SRC + 2] = r[I_SRC + 3] = 0;
      r[I_DST] = (int32_t)be32(d + ip + 16);
      r[I_DST + 1] = r[I_DST + 2] = r[I_DST + 3] = 0;
      segEnd = ip + totalLen;
    } else if ((typeVer >> 12) == 0x86dd6u) {
      if (o + 74 > capEnd) return false;
      const uint32_t lenNextHop = be32(d + ip + 4);
      if (((lenNextHop >> 8) & 0xff) != 6) return false;
      int64_t end = ip + 40 + (lenNextHop >> 16);
      if (end == ip + 40 || end > wireEnd) end = wireEnd;
      t = ip + 40;
      offFlagsWin = be32(d + t + 12);
      hdrLen = (offFlagsWin >> 28) << 2;
      if (hdrLen < 20 || t + hdrLen > end) return false;
      r[I_IPV] = 6;
      r[I_TTL] = (int32_t)(lenNextHop & 0xff);
      r[I_IPID] = -1;
      for (int k = 0; k < 4; k++) {
        r[I_SRC + k] = (int32_t)be32(d + ip + 8 + 4 * k);
        r[I_DST + k] = (int32_t)be32(d + ip + 24 + 4 * k);
      }
      segEnd = end;
    } else {
      return false;
    }
    // TCP options: none, or one of the common layouts (anything else: the JavaScript parser)
    int mss = -1, ws = -1, optBits = 0;
    int32_t sig = -1;
    const int64_t p = t + 20;
    const int64_t optEnd = t + hdrLen < capEnd ? t + hdrLen : capEnd;
    if (optEnd > p) {
      const int64_t n = optEnd - p;
      bool ok = false;
      if (n == 12) {
        const uint32_t w0 = be32(d + p);
        if (w0 == 0x0101080au) {
          optBits = 2;
          sig = (int32_t)be32(d + p + 4);
          ok = true;
        } else if ((w0 >> 16) == 0x0204) {
          const uint32_t w1 = be32(d + p + 4);
          if ((w1 & 0xffffff00u) == 0x01030300u && be32(d + p + 8) == 0x01010402u) {
            mss = (int)(w0 & 0xffff);
            ws = (int)(w1 & 0xff);
            optBits = 1;
            ok = true;
          }
        }
      } else if (n == 20) {
        const uint32_t w0 = be32(d + p);
        if ((w0 >> 16) == 0x0204 && be32(d + p + 4) == 0x0402080au) {
          const uint32_t w4 = be32(d + p + 16);
          if ((w4 & 0xffffff00u) == 0x01030300u) {
            mss = (int)(w0 & 0xffff);
            optBits = 3;
            sig = (int32_t)be32(d + p + 8);
            ws = (int)(w4 & 0xff);
            ok = true;
          }
        }
      }
      if (!ok) return false;
    }
    const uint32_t ports = be32(d + t);
    r[I_KIND] = 1;
    r[I_SPORT] = (int32_t)(ports >> 16);
    r[I_DPORT] = (int32_t)(ports & 0xffff);
    r[I_SEQ] = (int32_t)be32(d + t + 4);
    r[I_ACK] = (int32_t)be32(d + t + 8);
    r[I_FLAGS] = (int32_t)((offFlagsWin >> 16) & 0x1ff);
    r[I_WIN] = (int32_t)(offFlagsWin & 0xffff);
    r[I_LEN] = (int32_t)(segEnd - t - hdrLen);
    r[I_SIG] = sig;
    r[I_MSS] = mss;
    r[I_WS] = ws;
    r[I_OPTBITS] = optBits;
    return true;
  }

  /** finishSome(max, captureEndTs | NaN): true when every connection is out. */
  Napi::Value FinishSome(const Napi::CallbackInfo& info) {
    const double max = info[0].As<Napi::Number>().DoubleValue();
    const double endTs = info[1].As<Napi::Number>().DoubleValue();
    const bool done = finishSome(max, endTs);
    publish();
    return Napi::Boolean::New(info.Env(), done);
  }

  /** drain(nums, at, outcomes, patches): copies what is waiting, then forgets it. */
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Float64Array nums = info[0].As<Napi::Float64Array>();
    const size_t at = (size_t)info[1].As<Napi::Number>().Int64Value();
    Napi::Uint8Array oc = info[2].As<Napi::Uint8Array>();
    Napi::Float64Array pa = info[3].As<Napi::Float64Array>();
    if (at + out_.size() > nums.ElementLength() || outcomes_.size() > oc.ElementLength() ||
        patches_.size() > pa.ElementLength()) {
      Napi::RangeError::New(info.Env(), "Tracker.drain: no room").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    if (!out_.empty()) std::memcpy(nums.Data() + at, out_.data(), out_.size() * sizeof(double));
    if (!outcomes_.empty()) std::memcpy(oc.Data(), outcomes_.data(), outcomes_.size());
    if (!patches_.empty()) std::memcpy(pa.Data(), patches_.data(), patches_.size() * sizeof(double));
    out_.clear();
    outcomes_.clear();
    patches_.clear();
    publish();
    return info.Env().Undefined();
  }

  void publish() {
    if (stats_ == nullptr) return;
    stats_[S_ACTIVE] = active_;
    stats_[S_PEAK] = peak_;
    stats_[S_EVICTED] = evicted_;
    stats_[S_DUPLICATES] = duplicates_;
    stats_[S_OUT] = (double)out_.size();
    stats_[S_CONNS] = (double)outcomes_.size();
    stats_[S_PATCHES] = (double)(patches_.size() / PATCH_STRIDE);
  }

  // ------------------------------------------------------------ packets (tracker.ts packet/emitDue)

  void packet(const Pkt& p) {
    const double ts = p.ts;
    if (ts > maxTs_) maxTs_ = ts;
    if (maxTs_ >= dueAt_) emitDue(maxTs_);
    if (p.r[I_KIND] == 1)
      tcp(p);
    else if (p.r[I_KIND] == 2)
      icmp(p);
  }

  void emitDue(double now) {
    while (closedHead_ != nullptr && closedHead_->endTs + CLOSE_LINGER_S < now) emit(closedHead_, EMIT_LINGER);
    while (synHead_ != nullptr && synDue(synHead_) + SYN_GRACE_S <= now) emit(synHead_, EMIT_DUE);
    while (kHead_ != 0 && kSynDue(kHead_ - 1) + SYN_GRACE_S <= now) kEmit(kHead_ - 1, EMIT_DUE);
    while (kcHead_ != 0 && kEndTs(kcHead_ - 1) + CLOSE_LINGER_S < now) kEmit(kcHead_ - 1, EMIT_LINGER);
    double due = std::numeric_limits<double>::infinity();
    if (closedHead_ != nullptr) due = closedHead_->endTs + CLOSE_LINGER_S;
    if (kcHead_ != 0) due = std::min(due, kEndTs(kcHead_ - 1) + CLOSE_LINGER_S);
    if (synHead_ != nullptr) due = std::min(due, synDue(synHead_) + SYN_GRACE_S);
    if (kHead_ != 0) due = std::min(due, kSynDue(kHead_ - 1) + SYN_GRACE_S);
    dueAt_ = due;
  }

  static bool sameEnds(const Flow* f, const uint32_t* a, int ap, const uint32_t* b, int bp) {
    return f->cp == ap && f->sp == bp && f->ca[0] == a[0] && f->sa[0] == b[0] && f->ca[1] == a[1] &&
           f->ca[2] == a[2] && f->ca[3] == a[3] && f->sa[1] == b[1] && f->sa[2] == b[2] && f->sa[3] == b[3];
  }

  Flow* lookup(int ipv, const uint32_t* a, int ap, const uint32_t* b, int bp, uint32_t h) const {
    for (Flow* f = buckets_[h & bucketMask_]; f != nullptr; f = f->hnext) {
      if (f->hash == h && f->ipv == ipv) {
        if (sameEnds(f, a, ap, b, bp)) return f;
        if (sameEnds(f, b, bp, a, ap)) return f;
      }
    }
    return nullptr;
  }

  static bool isClient(const Flow* f, const uint32_t* src, int port) {
    return f->cp == port && f->ca[0] == src[0] && f->ca[1] == src[1] && f->ca[2] == src[2] && f->ca[3] == src[3];
  }

  void tcp(const Pkt& p) {
    const uint32_t* src = p.src();
    const uint32_t* dst = p.dst();
    const uint32_t h = endpointHash(src[0], src[1], src[2], src[3], (uint32_t)p.srcPort()) ^
                       endpointHash(dst[0], dst[1], dst[2], dst[3], (uint32_t)p.dstPort());
    const uint32_t flags = p.flags();
    const bool pureSyn = (flags & (SYN | ACK)) == SYN;
    Flow* f = lookup(p.ipv(), src, p.srcPort(), dst, p.dstPort(), h);
    bool fromClient = false;
    Flow* promoted = nullptr;
    if (f == nullptr && kActive_ > 0) {
      const int k = kLookup(p.ipv(), src, p.srcPort(), dst, p.dstPort(), h);
      if (k >= 0) {
        const bool fromC = kIsClient(k, src, p.srcPort());
        const int32_t info = k_[k].info;
        const bool closed = (info & K_CLOSED) != 0;
        const bool room = ((info >> 8) & 0xff) < K_MAX_SYNS;
        if (!closed && pureSyn && fromC && (flags & (FIN | RST)) == 0 && p.seq() == k_[k].a.seq) {
          // retransmitted (or duplicated) SYN
          if (room) {
            kAddSyn(k, p);
            return;
          }
          f = promoted = kPromote(k);
        } else if (pureSyn && fromC && p.seq() != k_[k].a.seq) {
          kEmit(k, EMIT_REUSE);  // port reuse: a new connection (below)
        } else if (!closed && room && (flags & (RST | SYN | FIN)) == RST) {
          kAddRst(k, p, fromC);  // refused (or aborted by the client), still compact
          return;
        } else {
          f = promoted = kPromote(k);
        }
      }
    }
    if (f != nullptr) {
      fromClient = isClient(f, src, p.srcPort());
      if (pureSyn) {
        const Dir* side = fromClient ? f->c : f->s;
        if (fromClient && f->c->synSeen && p.seq() == f->c->isn) {
          // retransmitted SYN: same connection
        } else if (side->seen || side->synSeen) {
          emit(f, EMIT_REUSE);  // port reuse: a new connection
          f = nullptr;
        }
      }
    }
    if (f == nullptr) {
      if (pureSyn && (flags & (FIN | RST)) == 0 && active_ >= compactAbove_) {
        kCreate(p, h);
        return;
      }
      f = create(p, h);
      fromClient = true;
      if ((flags & (SYN | ACK)) == (SYN | ACK)) {
        setEndpoints(f, p.ipv(), dst, p.dstPort(), src, p.srcPort());
        fromClient = false;
      }
    } else {
      lruTouch(f);
    }
    segment(f, p, fromClient);
    if (promoted == f) synInsert(f);
  }

  static void setEndpoints(Flow* f, int ipv, const uint32_t* c, int cp, const uint32_t* s, int sp) {
    f->ipv = ipv;
    for (int k = 0; k < 4; k++) {
      f->ca[k] = c[k];
      f->sa[k] = s[k];
    }
    f->cp = cp;
    f->sp = sp;
  }

  void makeRoom() {
    if (active_ >= maxFlows_ && !logOn_) logStart();
    while (active_ >= maxFlows_) {
      Flow* lru = leastRecent();
      if (closedHead_ != nullptr)
        emit(closedHead_, EMIT_LINGER);
      else if (kcHead_ != 0)
        kEmit(kcHead_ - 1, EMIT_LINGER);
      else if (lru != nullptr && (kHead_ == 0 || lru->touch < k_[kHead_ - 1].touch))
        emit(lru, EMIT_EVICT);
      else if (kHead_ != 0)
        kEmit(kHead_ - 1, EMIT_EVICT);
      else
        break;
    }
  }

  Flow* allocFlow() {
    if (freeFlows_ == nullptr) {
      const size_t n = 1024;
      Flow* chunk = new Flow[n];
      chunks_.push_back(chunk);
      for (size_t i = n; i-- > 0;) {
        chunk[i].freeNext = freeFlows_;
        freeFlows_ = &chunk[i];
      }
    }
    Flow* f = freeFlows_;
    freeFlows_ = f->freeNext;
    f->freeNext = nullptr;
    return f;
  }


  Flow* create(const Pkt& p, uint32_t h) {
    makeRoom();
    Flow* f = allocFlow();
    f->id = nextId_++;
    f->hash = h;
    setEndpoints(f, p.ipv(), p.src(), p.srcPort(), p.dst(), p.dstPort());
    f->firstTs = p.ts;
    f->lastTs = p.ts;
    lruTouch(f);
    const uint32_t i = h & bucketMask_;
    f->hnext = buckets_[i];
    buckets_[i] = f;
    active_++;
    if (active_ > peak_) peak_ = active_;
    if (active_ - kActive_ > (double)buckets_.size()) grow();
    return f;
  }

  void tableFlows(std::vector<Flow*>& all) const {
    for (Flow* head : buckets_)
      for (Flow* f = head; f != nullptr; f = f->hnext) all.push_back(f);
  }

  void grow() {
    std::vector<Flow*> all;
    tableFlows(all);
    const size_t n = buckets_.size() * 2;
    std::vector<Flow*> nb(n, nullptr);
    const uint32_t mask = (uint32_t)(n - 1);
    // tableFlows() order, then head insertion (as tracker.ts grow())
    for (Flow* f : all) {
      const uint32_t i = f->hash & mask;
      f->hnext = nb[i];
      nb[i] = f;
    }
    buckets_.swap(nb);
    bucketMask_ = mask;
  }

  // ---- LRU (tracker.ts lruTouch, logStart, logCompact, leastRecent)

  void lruTouch(Flow* f) {
    const double t = ++touchSeq_;
    f->touch = t;
    if (!logOn_) return;
    if (logTail_ > logHead_ && logSlot_[logTail_ - 1].f == f) {
      logSlot_[logTail_ - 1].touch = t;
      return;
    }
    if (logTail_ == logSlot_.size()) logCompact();
    logSlot_[logTail_++] = LogEntry{f, t};
  }

  void logStart() {
    std::vector<Flow*> all;
    tableFlows(all);
    std::sort(all.begin(), all.end(), [](const Flow* x, const Flow* y) { return x->touch < y->touch; });
    size_t n = logSlot_.size();
    while (n < all.size() * 2) n *= 2;
    logSlot_.assign(n, LogEntry{nullptr, 0});
    for (size_t i = 0; i < all.size(); i++) logSlot_[i] = LogEntry{all[i], all[i]->touch};
    logHead_ = 0;
    logTail_ = all.size();
    logOn_ = true;
  }

  bool logCurrent(size_t i) const { return logSlot_[i].f->touch == logSlot_[i].touch; }

  void logCompact() {
    size_t j = 0;
    for (size_t i = logHead_; i < logTail_; i++) {
      if (!logCurrent(i)) continue;
      logSlot_[j++] = logSlot_[i];
    }
    logHead_ = 0;
    logTail_ = j;
    if (j * 2 > logSlot_.size()) logSlot_.resize(logSlot_.size() * 2);
  }

  Flow* leastRecent() {
    while (logHead_ < logTail_) {
      if (logCurrent(logHead_)) return logSlot_[logHead_].f;
      logHead_++;
    }
    return nullptr;
  }

  // ---- auxiliary lists (tracker.ts auxUnlink/auxAppend)

  void auxUnlink(Flow* f) {
    if (f->aux == AUX_NONE) return;
    const bool syn = f->aux == AUX_SYN_WAIT;
    if (f->auxPrev != nullptr)
      f->auxPrev->auxNext = f->auxNext;
    else {
      dueAt_ = -std::numeric_limits<double>::infinity();
      if (syn)
        synHead_ = f->auxNext;
      else
        closedHead_ = f->auxNext;
    }
    if (f->auxNext != nullptr)
      f->auxNext->auxPrev = f->auxPrev;
    else if (syn)
      synTail_ = f->auxPrev;
    else
      closedTail_ = f->auxPrev;
    f->auxPrev = f->auxNext = nullptr;
    f->aux = AUX_NONE;
  }

  void auxAppend(Flow* f, int which) {
    if (f->aux != AUX_NONE) auxUnlink(f);
    f->aux = which;
    Flow*& head = which == AUX_SYN_WAIT ? synHead_ : closedHead_;
    Flow*& tail = which == AUX_SYN_WAIT ? synTail_ : closedTail_;
    f->auxPrev = tail;
    if (tail != nullptr)
      tail->auxNext = f;
    else {
      head = f;
      dueAt_ = -std::numeric_limits<double>::infinity();
    }
    tail = f;
  }

  static void addFrame(Flow* f, double frame) {
    if (f->framesN < (uint32_t)MAX_FRAMES) f->frames[f->framesN++] = frame;
  }

  void ladderAdd(Flow* f, double frame, double ts, int from, uint32_t flags, int32_t seq, int32_t ack, double len, int ttl,
                 int note) {
    f->ladderSeen++;
    if ((double)f->ladderN >= ladderLimit_) return;
    const uint32_t packed = (flags & 0x1ff) | (((uint32_t)ttl & 0xff) << 9) | ((uint32_t)from << 17) | ((uint32_t)note << 19);
    const Step st{frame, ts, seq, ack, (uint32_t)len, packed};
    if (f->ladderN < LADDER_INLINE)
      f->ladderIn[f->ladderN] = st;
    else
      f->ladderMore.push_back(st);
    f->ladderN++;
  }

  // ---- tracker.ts isDuplicate
  static bool isDuplicate(Dir* d, const Dir* rev, const Pkt& p, double ts, int32_t seq, int32_t ack, double flagsLen,
                          int32_t sig) {
    const int32_t ipId = p.ipId();
    const int32_t win = p.window();
    const double revN = rev->packets;
    if (d->d0Seq == seq && d->d0Ack == ack && d->d0FlagsLen == flagsLen && d->d0Win == win && d->d0IpId == ipId &&
        d->d0Sig == sig && d->d0Rev == revN && ts - d->d0Ts <= DUPLICATE_WINDOW_S && ts >= d->d0Ts - DUPLICATE_WINDOW_S)
      return true;
    if (d->d1Seq == seq && d->d1Ack == ack && d->d1FlagsLen == flagsLen && d->d1Win == win && d->d1IpId == ipId &&
        d->d1Sig == sig && d->d1Rev == revN && ts - d->d1Ts <= DUPLICATE_WINDOW_S && ts >= d->d1Ts - DUPLICATE_WINDOW_S)
      return true;
    d->d1IpId = d->d0IpId;
    d->d1Seq = d->d0Seq;
    d->d1Ack = d->d0Ack;
    d->d1FlagsLen = d->d0FlagsLen;
    d->d1Win = d->d0Win;
    d->d1Sig = d->d0Sig;
    d->d1Ts = d->d0Ts;
    d->d1Rev = d->d0Rev;
    d->d0Rev = revN;
    d->d0IpId = ipId;
    d->d0Seq = seq;
    d->d0Ack = ack;
    d->d0FlagsLen = flagsLen;
    d->d0Win = win;
    d->d0Sig = sig;
    d->d0Ts = ts;
    return false;
  }

  // ---- tracker.ts segment
  void segment(Flow* f, const Pkt& p, bool fromClient) {
    Dir* fwd = fromClient ? f->c : f->s;
    Dir* rev = fromClient ? f->s : f->c;
    const uint32_t flags = p.flags();
    const int32_t seq = p.seq();
    const int32_t ack = p.ack();
    const double seglen = p.len();
    const double ts = p.ts;
    const double frame = p.frame;
    const int fromCode = fromClient ? FROM_CLIENT : FROM_SERVER;

    const int32_t sig = p.sig();
    const double flagsLen = (double)(flags & 0x1ff) + seglen * 512;
    if (fwd->seen && isDuplicate(fwd, rev, p, ts, seq, ack, flagsLen, sig)) {
      f->duplicates++;
      duplicates_++;
      ladderAdd(f, frame, ts, fromCode, flags, seq, ack, seglen, p.ttl(), NOTE_DUP);
      if (ts > f->lastTs) f->lastTs = ts;
      return;
    }
    if (!fwd->seen) {
      isDuplicate(fwd, rev, p, ts, seq, ack, flagsLen, sig);  // seed the signature ring
      fwd->seen = true;
      fwd->base = (flags & SYN) != 0 ? seq : add32(seq, -1);
    }
    if (ts > f->lastTs) f->lastTs = ts;
    fwd->packets++;
    fwd->bytes += seglen;

    if ((flags & RST) == 0 && fwd->packets <= TTL_LEARN_PACKETS && !replaying_) {
      fwd->ttlSlot = ttl_.learnHinted(fwd->ttlSlot, p.ipv(), p.src(), p.ttl(), p.ipId());
    }

    if ((flags & SYN) != 0) {
      if ((flags & ACK) == 0) {
        f->mruSynTs = ts;
        f->mruSynSet = true;
        if (fromClient) {
          if (!f->c->synSeen) {
            f->c->synSeen = true;
            f->c->isn = seq;
            f->c->base = seq;
            f->firstSynTs = ts;
            f->optMss = p.r[I_MSS];
            f->optWs = p.r[I_WS];
            f->optSack = (p.r[I_OPTBITS] & 1) != 0;
            f->optTs = (p.r[I_OPTBITS] & 2) != 0;
            f->prevSynTs = ts;
          } else {
            f->prevSynTs = f->lastSynTs;
          }
          f->syn++;
          f->lastSynTs = ts;
          addFrame(f, frame);
          if (!f->s->synSeen && !f->ended) auxAppend(f, AUX_SYN_WAIT);
        }
      } else if (!fromClient) {
        f->synAck++;
        if (!f->s->synSeen) {
          f->s->synSeen = true;
          f->s->isn = seq;
          f->s->base = seq;
          f->synAckTtl = p.ttl();
          f->hsSet = true;
          f->hsSynAckTs = ts;
          f->hsSynForSynAckTs = f->lastSynTs;
          f->hsAnswersSyn = f->c->synSeen;
        }
        if (f->hsSet) f->hsLastSynAckTs = ts;
        addFrame(f, frame);
        if (f->aux == AUX_SYN_WAIT) auxUnlink(f);
      }
    } else if ((flags & ACK) != 0 && (flags & RST) == 0 && fromClient && f->hsSet && !f->handshakeDone) {
      f->handshakeDone = true;
      f->hsAckTs = ts;
      addFrame(f, frame);
      if (f->hsAnswersSyn) {
        f->hsRttSet = true;
        f->hsSynToSynAckMs = jsRound((f->hsSynAckTs - f->hsSynForSynAckTs) * 1e6) / 1e3;
        f->hsSynAckToAckMs = jsRound((ts - f->hsLastSynAckTs) * 1e6) / 1e3;
        f->hsTotalMs = jsRound((ts - f->lastSynTs) * 1e6) / 1e3;
      }
    }
    if ((flags & FIN) != 0 && !fwd->finSeen) {
      fwd->finSeen = true;
      addFrame(f, frame);
      if (f->c->finSeen && f->s->finSeen) end(f, ts);
    }
    if ((flags & RST) != 0) {
      if (!fwd->rstSeen) {
        fwd->rstSeen = true;
        if (f->rstFrom == 0) {
          f->rstFrom = fromClient ? 1 : 2;
          f->rstTs = ts;
          f->rstFrame = frame;
          f->rstTtl = p.ttl();
          f->rstIpId = p.ipId();
        }
        addFrame(f, frame);
      }
      end(f, ts);
    }

    const int note = analyze(f, fwd, rev, p, ts, seq, ack, seglen, flags);
    if (note == NOTE_RETRANS && (flags & SYN) == 0) {
      f->dataRetrans++;
      if (f->dataRetrans <= RETRANS_FRAMES) addFrame(f, frame);
    }

    if ((flags & (SYN | ACK)) == ACK && f->mruSynSet && f->firstRtt == 0) {
      f->firstRtt = ts - f->mruSynTs;
      if (f->firstRtt <= 0) f->firstRtt = 1e-9;
    }

    ladderAdd(f, frame, ts, fromCode, flags, seq, ack, seglen, p.ttl(), note);
  }

  // ---- tracker.ts analyze (Wireshark's tcp_analyze_sequence_number)
  static int analyze(Flow* f, Dir* fwd, Dir* rev, const Pkt& p, double ts, int32_t seq, int32_t ack, double seglen,
                     uint32_t flags) {
    int note = NOTE_NONE;
    bool keepAlive = false;
    bool zwp = false;
    bool skipToFinishedFwd = false;
    const int32_t window = p.window();
    const bool hasAck = (flags & ACK) != 0;
    const bool noSynFinRst = (flags & (SYN | FIN | RST)) == 0;

    if (seglen == 1 && fwd->nextKnown && seq == fwd->nextseq && rev->window == 0) {
      zwp = true;
      skipToFinishedFwd = true;
    }
    if (!skipToFinishedFwd) {
      if ((seglen == 0 || seglen == 1) && fwd->nextKnown && seq == add32(fwd->nextseq, -1) && noSynFinRst) {
        keepAlive = true;
      }
      const bool pureCtl = seglen == 0 && noSynFinRst && fwd->nextKnown && seq == fwd->nextseq;
      if (pureCtl && ack == fwd->lastack && window == fwd->window &&
          (window != 0 ? rev->lastWasKeepAlive : rev->lastWasZwp)) {
        skipToFinishedFwd = true;
      } else if (pureCtl && window != 0 && window == fwd->window && ack == fwd->lastack) {
        if (fwd->dupacknum == -1)
          fwd->dupacknum = 1;
        else
          fwd->dupacknum++;
      }
    }
    if (ack != fwd->lastack) fwd->dupacknum = 0;

    // ACKED LOST PACKET (never for a side that has sent nothing: maxKnown is false there)
    if (hasAck && rev->maxKnown && seqGt(ack, rev->maxSeqToBeAcked)) {
      if ((uint32_t)rev->maxSeqToBeAcked > (uint32_t)rev->nextseq) {
        rev->maxSeqToBeAcked = rev->nextseq;
      } else {
        rev->dupacknum = -1;
      }
    }

    if (seglen > 0 || (flags & (SYN | FIN)) != 0) {
      if (keepAlive) {
        note = NOTE_KEEPALIVE;
      } else {
        bool notAdvanced = fwd->nextKnown && seqLt(seq, fwd->nextseq);
        if (seglen > 1 && add32(fwd->nextseq, -1) == seq) notAdvanced = false;
        const double tAck = ts - rev->lastackTs;
        const double tNext = ts - fwd->nextseqTs;
        const double oooThres = f->firstRtt > 0 ? f->firstRtt : OOO_DEFAULT_S;
        if (notAdvanced && rev->dupacknum >= 2 && rev->lastack == seq && tAck >= 0 && tAck < FAST_RETRANS_S) {
          note = NOTE_RETRANS;
        } else if (notAdvanced && tNext >= 0 && tNext < oooThres && fwd->nextseq != add32(seq, (int64_t)seglen)) {
          note = NOTE_OOO;
        } else if (seglen > 0 && rev->lastack != 0 && seqLe(add32(seq, (int64_t)seglen), rev->lastack)) {
          note = NOTE_RETRANS;
        } else if (notAdvanced) {
          note = NOTE_RETRANS;
        }
      }
    } else if (keepAlive) {
      note = NOTE_KEEPALIVE;
    }

    int32_t nextseq = add32(seq, (int64_t)seglen);
    if ((flags & (SYN | FIN)) != 0) nextseq = add32(nextseq, 1);
    if (!fwd->nextKnown || seqGt(nextseq, fwd->nextseq)) {
      if (!zwp) {
        fwd->nextKnown = true;
        fwd->nextseq = nextseq;
        fwd->nextseqTs = ts;
      }
    }
    if (!fwd->maxKnown || seq == fwd->maxSeqToBeAcked) {
      if (!zwp) {
        fwd->maxKnown = true;
        fwd->maxSeqToBeAcked = fwd->nextseq;
      }
    }
    fwd->window = window;
    fwd->lastack = ack;
    fwd->lastackTs = ts;
    fwd->lastWasKeepAlive = keepAlive;
    fwd->lastWasZwp = zwp;
    return note;
  }

  void end(Flow* f, double ts) {
    if (f->ended) return;
    f->ended = true;
    f->endTs = ts;
    auxAppend(f, AUX_CLOSED);
  }

  // ---- tracker.ts icmp
  void icmp(const Pkt& p) {
    const int32_t* r = p.r;
    const int innerIpv = r[I_INNER_IPV];
    if (innerIpv == 0 || r[I_INNER_PROTO] != 6 || (r[I_INNER_BITS] & 1) == 0) return;
    const int32_t innerFlags = r[I_INNER_FLAGS];
    if (innerFlags >= 0 && ((uint32_t)innerFlags & (SYN | ACK)) != SYN) return;
    const uint32_t* a = reinterpret_cast<const uint32_t*>(r + I_DST);
    const uint32_t* b = reinterpret_cast<const uint32_t*>(r + I_INNER_DST);
    const int ap = r[I_SPORT], bp = r[I_DPORT];
    const uint32_t h = endpointHash(a[0], a[1], a[2], a[3], (uint32_t)ap) ^ endpointHash(b[0], b[1], b[2], b[3], (uint32_t)bp);
    Flow* f = lookup(innerIpv, a, ap, b, bp, h);
    if (f == nullptr && kActive_ > 0) {
      const int k = kLookup(innerIpv, a, ap, b, bp, h);
      if (k >= 0) {
        f = kPromote(k);
        synInsert(f);
      }
    }
    if (f == nullptr) return;
    if (!isClient(f, a, ap)) return;
    if (!f->c->synSeen || f->s->synSeen || f->handshakeDone) return;
    const bool hasSeq = (r[I_INNER_BITS] & 2) != 0;
    const int32_t innerSeq = r[I_ACK];
    if (hasSeq && innerSeq != f->c->isn) return;
    const double ts = p.ts;
    const int type = r[I_FLAGS], code = r[I_SEQ];
    if (f->icmpType < 0) {
      f->icmpType = type;
      f->icmpCode = code;
      f->icmpTs = ts;
      f->icmpFrame = p.frame;
      f->icmpIpv = p.ipv();
      const uint32_t* s = p.src();
      for (int k = 0; k < 4; k++) f->icmpA[k] = s[k];
      addFrame(f, p.frame);
    }
    if (ts > f->lastTs) f->lastTs = ts;
    lruTouch(f);
    ladderAdd(f, p.frame, ts, FROM_ICMP, 0, hasSeq ? innerSeq : f->c->isn, 0, (double)type * 256 + code, p.ttl(),
              NOTE_NONE);
  }

  // ------------------------------------------------------------ compact tier (tracker.ts k*)

  int kLookup(int ipv, const uint32_t* a, int ap, const uint32_t* b, int bp, uint32_t h) const {
    if (kBuckets_.empty()) return -1;
    for (int32_t k = kBuckets_[h & kMask_]; k != 0; k = kl_[k - 1].next) {
      if (kl_[k - 1].hash != h) continue;
      const KSlot& K = k_[k - 1];
      if ((K.info & 0xff) != ipv) continue;
      const int cp = (int)((uint32_t)K.ports >> 16), sp = K.ports & 0xffff;
      if (cp == ap && sp == bp && K.ca0 == a[0] && K.sa0 == b[0] && (ipv == 4 || k6Eq(K, a, b))) return k - 1;
      if (cp == bp && sp == ap && K.ca0 == b[0] && K.sa0 == a[0] && (ipv == 4 || k6Eq(K, b, a))) return k - 1;
    }
    return -1;
  }

  static bool k6Eq(const KSlot& K, const uint32_t* c, const uint32_t* d) {
    return K.a6[0] == c[1] && K.a6[1] == c[2] && K.a6[2] == c[3] && K.a6[3] == d[1] && K.a6[4] == d[2] && K.a6[5] == d[3];
  }

  bool kIsClient(int s, const uint32_t* src, int port) const {
    const KSlot& K = k_[s];
    if ((int)((uint32_t)K.ports >> 16) != port || K.ca0 != src[0]) return false;
    if ((K.info & 0xff) == 4) return true;
    return K.a6[0] == src[1] && K.a6[1] == src[2] && K.a6[2] == src[3];
  }

  /** Address word w (0-3) of the client (side 0) or server (side 1) of slot s. */
  uint32_t kWord(int s, int side, int w) const {
    const KSlot& K = k_[s];
    if (w == 0) return side == 0 ? K.ca0 : K.sa0;
    return (K.info & 0xff) == 6 ? K.a6[side * 3 + w - 1] : 0;
  }

  void kListAppend(int s, bool closed) {
    int32_t& head = closed ? kcHead_ : kHead_;
    int32_t& tail = closed ? kcTail_ : kTail_;
    k_[s].prev = tail;
    k_[s].next = 0;
    if (tail != 0)
      k_[tail - 1].next = s + 1;
    else {
      head = s + 1;
      dueAt_ = -std::numeric_limits<double>::infinity();
    }
    tail = s + 1;
  }

  void kListUnlink(int s, bool closed) {
    int32_t& head = closed ? kcHead_ : kHead_;
    int32_t& tail = closed ? kcTail_ : kTail_;
    const int32_t p = k_[s].prev, n = k_[s].next;
    if (p != 0)
      k_[p - 1].next = n;
    else {
      head = n;
      dueAt_ = -std::numeric_limits<double>::infinity();
    }
    if (n != 0)
      k_[n - 1].prev = p;
    else
      tail = p;
  }

  /** When a compact flow ended: its last record is the RST. */
  double kEndTs(int s) const { return rB_[k_[s].r2 - 1].ts; }

  int32_t rBAlloc() {
    if (!rBFree_.empty()) {
      const int32_t r = rBFree_.back();
      rBFree_.pop_back();
      return r;
    }
    rB_.emplace_back();
    return (int32_t)rB_.size() - 1;
  }

  static void store(Rec& R, const Pkt& p) {
    R.frame = p.frame;
    R.ts = p.ts;
    R.seq = p.seq();
    R.ack = p.ack();
    R.ipId = p.ipId();
    R.sig = p.sig();
    R.len = (int32_t)p.len();
    R.win = (uint16_t)p.window();
    R.pack = (int32_t)(p.flags() & 0x1ff) | ((p.ttl() & 0xff) << 9) | ((p.r[I_OPTBITS] & 2) != 0 ? REC_TS : 0);
    R.link = 0;
  }

  void kAddRst(int s, const Pkt& p, bool fromClient) {
    const int32_t r = rBAlloc();
    Rec& R = rB_[r];
    store(R, p);
    if (!fromClient) R.pack |= REC_SERVER;
    R.link = k_[s].r2;
    k_[s].r2 = r + 1;
    k_[s].info = (k_[s].info + (1 << 8)) | K_CLOSED;
    kListUnlink(s, false);
    kListAppend(s, true);
    k_[s].touch = ++touchSeq_;
  }

  void kCreate(const Pkt& p, uint32_t h) {
    makeRoom();
    int s;
    if (kFreeTop_ != 0) {
      s = kFreeTop_ - 1;
      kFreeTop_ = kl_[s].next;
    } else {
      s = (int)k_.size();
      k_.emplace_back();
      kl_.emplace_back();
      if (k_.size() > kBuckets_.size()) kRehash();
    }
    KSlot& K = k_[s];
    kl_[s].hash = h;
    K.id = nextId_++;
    const uint32_t* src = p.src();
    const uint32_t* dst = p.dst();
    K.ca0 = src[0];
    K.sa0 = dst[0];
    if (p.ipv() == 6) {
      K.a6[0] = src[1];
      K.a6[1] = src[2];
      K.a6[2] = src[3];
      K.a6[3] = dst[1];
      K.a6[4] = dst[2];
      K.a6[5] = dst[3];
    }
    K.ports = (int32_t)(((uint32_t)p.srcPort() << 16) | (uint32_t)p.dstPort());
    K.info = p.ipv() | (1 << 8);
    K.opt = (p.r[I_MSS] + 1) | ((p.r[I_WS] + 1) << 17) | ((p.r[I_OPTBITS] & 1) != 0 ? 1 << 26 : 0);
    K.r2 = 0;
    store(K.a, p);
    const uint32_t i = h & kMask_;
    kl_[s].next = kBuckets_[i];
    kBuckets_[i] = s + 1;
    kListAppend(s, false);
    K.touch = ++touchSeq_;
    kActive_++;
    active_++;
    if (active_ > peak_) peak_ = active_;
    // what segment() would learn from the first packet of the direction
    ttl_.learnHinted(-1, p.ipv(), src, p.ttl(), p.ipId());
  }

  /** Hash buckets: a power of two >= the slots; every live slot rehashed (tracker.ts kResize). */
  void kRehash() {
    size_t nb = 1024;
    while (nb < k_.size()) nb *= 2;
    kBuckets_.assign(nb, 0);
    kMask_ = (uint32_t)(nb - 1);
    for (int32_t head : {kHead_, kcHead_}) {
      for (int32_t k = head; k != 0; k = k_[k - 1].next) {
        const uint32_t i = kl_[k - 1].hash & kMask_;
        kl_[k - 1].next = kBuckets_[i];
        kBuckets_[i] = k;
      }
    }
  }

  static bool sameRec(const Rec& x, const Rec& y, double ts) {
    return x.seq == y.seq && x.ack == y.ack && (x.pack & 0x1ff) + (double)x.len * 512 == (y.pack & 0x1ff) + (double)y.len * 512 &&
           x.win == y.win && x.ipId == y.ipId && x.sig == y.sig && ts - y.ts <= DUPLICATE_WINDOW_S &&
           ts >= y.ts - DUPLICATE_WINDOW_S;
  }

  void kAddSyn(int s, const Pkt& p) {
    const int32_t r = rBAlloc();
    store(rB_[r], p);
    // isDuplicate(): the same as one of the last two SYNs that were not copies themselves
    bool dup = false;
    int seen = 0;
    for (int32_t q = k_[s].r2; seen < 2; q = rB_[q - 1].link) {
      const Rec& X = q == 0 ? k_[s].a : rB_[q - 1];
      if (q == 0 || (X.pack & REC_DUP) == 0) {
        seen++;
        if (sameRec(rB_[r], X, p.ts)) {
          dup = true;
          break;
        }
      }
      if (q == 0) break;
    }
    rB_[r].link = k_[s].r2;
    k_[s].r2 = r + 1;
    if (dup)
      rB_[r].pack |= REC_DUP;
    else if (kSyns(s) <= TTL_LEARN_PACKETS)
      ttl_.learnHinted(-1, p.ipv(), p.src(), p.ttl(), p.ipId());
    k_[s].info += 1 << 8;
    kListUnlink(s, false);
    kListAppend(s, false);
    k_[s].touch = ++touchSeq_;
  }

  double kLastSynTs(int s) const {
    for (int32_t q = k_[s].r2; q != 0; q = rB_[q - 1].link)
      if ((rB_[q - 1].pack & (REC_DUP | (int32_t)RST)) == 0) return rB_[q - 1].ts;
    return k_[s].a.ts;
  }

  int kSyns(int s) const {
    int n = 1;
    for (int32_t q = k_[s].r2; q != 0; q = rB_[q - 1].link)
      if ((rB_[q - 1].pack & (REC_DUP | (int32_t)RST)) == 0) n++;
    return n;
  }

  double kSynDue(int s) const {
    int32_t last = -1, prev = -1;
    for (int32_t q = k_[s].r2; q != 0 && prev < 0; q = rB_[q - 1].link) {
      if ((rB_[q - 1].pack & (REC_DUP | (int32_t)RST)) != 0) continue;
      if (last < 0)
        last = q - 1;
      else
        prev = q - 1;
    }
    const double lastTs = last < 0 ? k_[s].a.ts : rB_[last].ts;
    const double gap = last < 0 ? 0 : lastTs - (prev < 0 ? k_[s].a.ts : rB_[prev].ts);
    return lastTs + std::max(synTimeoutS_, 2.5 * gap);
  }

  void kRemove(int s) {
    KSlot& K = k_[s];
    const uint32_t i = kl_[s].hash & kMask_;
    int32_t k = kBuckets_[i];
    if (k == s + 1)
      kBuckets_[i] = kl_[s].next;
    else {
      while (k != 0 && kl_[k - 1].next != s + 1) k = kl_[k - 1].next;
      if (k != 0) kl_[k - 1].next = kl_[s].next;
    }
    kListUnlink(s, (K.info & K_CLOSED) != 0);
    for (int32_t q = K.r2; q != 0; q = rB_[q - 1].link) rBFree_.push_back(q - 1);
    K.r2 = 0;
    kl_[s].next = kFreeTop_;
    kFreeTop_ = s + 1;
    kActive_--;
  }

  /** A full Flow (not linked anywhere) with the compact flow's packets replayed through segment(). */
  Flow* kMaterialize(int s) {
    Flow* f = allocFlow();
    const KSlot& K = k_[s];
    f->id = K.id;
    f->hash = kl_[s].hash;
    const int ipv = K.info & 0xff;
    f->ipv = ipv;
    for (int w = 0; w < 4; w++) {
      f->ca[w] = kWord(s, 0, w);
      f->sa[w] = kWord(s, 1, w);
    }
    f->cp = (int)((uint32_t)K.ports >> 16);
    f->sp = K.ports & 0xffff;
    f->firstTs = K.a.ts;
    f->lastTs = f->firstTs;
    int32_t row[IN_STRIDE] = {0};
    row[I_KIND] = 1;
    row[I_IPV] = ipv;
    row[I_MSS] = (K.opt & 0x1ffff) - 1;
    row[I_WS] = ((K.opt >> 17) & 0x1ff) - 1;
    const int sack = (K.opt >> 26) & 1;
    replaying_ = true;
    kReplay(f, K.a, row, sack);
    // the later SYNs, oldest first (the chain runs from the latest)
    int32_t order[K_MAX_SYNS + 1];
    int n = 0;
    for (int32_t q = K.r2; q != 0 && n <= K_MAX_SYNS; q = rB_[q - 1].link) order[n++] = q - 1;
    while (n > 0) kReplay(f, rB_[order[--n]], row, sack);
    replaying_ = false;
    auxUnlink(f);
    return f;
  }

  void kReplay(Flow* f, const Rec& R, int32_t* row, int sack) {
    const bool server = (R.pack & REC_SERVER) != 0;
    const uint32_t* c = f->ca;
    const uint32_t* sv = f->sa;
    for (int w = 0; w < 4; w++) {
      row[I_SRC + w] = (int32_t)(server ? sv[w] : c[w]);
      row[I_DST + w] = (int32_t)(server ? c[w] : sv[w]);
    }
    row[I_SPORT] = server ? f->sp : f->cp;
    row[I_DPORT] = server ? f->cp : f->sp;
    row[I_SEQ] = R.seq;
    row[I_ACK] = R.ack;
    row[I_FLAGS] = R.pack & 0x1ff;
    row[I_TTL] = (R.pack >> 9) & 0xff;
    row[I_SIG] = R.sig;
    row[I_LEN] = R.len;
    row[I_WIN] = R.win;
    row[I_IPID] = R.ipId;
    row[I_OPTBITS] = sack | ((R.pack & REC_TS) != 0 ? 2 : 0);
    Pkt p{row, R.ts, R.frame};
    segment(f, p, !server);
  }

  Flow* kPromote(int s) {
    Flow* f = kMaterialize(s);
    kRemove(s);
    const uint32_t i = f->hash & bucketMask_;
    f->hnext = buckets_[i];
    buckets_[i] = f;
    lruTouch(f);
    if (active_ - kActive_ > (double)buckets_.size()) grow();
    if (f->ended) auxAppend(f, AUX_CLOSED);
    return f;
  }

  /** A promoted flow still waiting for an answer: onto the waiting-SYN list, in order of its last SYN. */
  void synInsert(Flow* f) {
    if (f->aux != AUX_NONE || !f->c->synSeen || f->s->synSeen || f->ended) return;
    f->aux = AUX_SYN_WAIT;
    Flow* p = synTail_;
    while (p != nullptr && p->lastSynTs > f->lastSynTs) p = p->auxPrev;
    f->auxPrev = p;
    f->auxNext = p != nullptr ? p->auxNext : synHead_;
    if (f->auxNext != nullptr)
      f->auxNext->auxPrev = f;
    else
      synTail_ = f;
    if (p != nullptr)
      p->auxNext = f;
    else {
      synHead_ = f;
      dueAt_ = -std::numeric_limits<double>::infinity();
    }
  }

  void kEmit(int s, int why) {
    Flow* f = kMaterialize(s);
    kRemove(s);
    active_--;
    if (why == EMIT_EVICT) evicted_++;
    encodeFlow(f, why);
    recycle(f);
  }

  // ------------------------------------------------------------ time and the end (tracker.ts synDue/finishSome)

  double synDue(const Flow* f) const {
    const double gap = f->syn > 1 ? f->lastSynTs - f->prevSynTs : 0;
    return f->lastSynTs + std::max(synTimeoutS_, 2.5 * gap);
  }

  bool finishSome(double max, double captureEndTs) {
    if (finished_) return true;
    if (!finStarted_) {
      if (!std::isnan(captureEndTs) && captureEndTs > maxTs_) maxTs_ = captureEndTs;
      finRest_.clear();
      tableFlows(finRest_);
      std::sort(finRest_.begin(), finRest_.end(), [](const Flow* x, const Flow* y) { return x->id < y->id; });
      finI_ = 0;
      // compact flows, merged in by connection id
      finK_.clear();
      for (int32_t k = kHead_; k != 0; k = k_[k - 1].next) finK_.push_back(k - 1);
      for (int32_t k = kcHead_; k != 0; k = k_[k - 1].next) finK_.push_back(k - 1);
      std::sort(finK_.begin(), finK_.end(), [this](int32_t x, int32_t y) { return k_[x].id < k_[y].id; });
      finJ_ = 0;
      finStarted_ = true;
    }
    for (double left = max; left > 0 && (finI_ < finRest_.size() || finJ_ < finK_.size()); left--) {
      if (finJ_ < finK_.size() && (finI_ >= finRest_.size() || k_[finK_[finJ_]].id < finRest_[finI_]->id))
        kEmit(finK_[finJ_++], EMIT_FINISH);
      else
        emit(finRest_[finI_++], EMIT_FINISH);
    }
    if (finI_ < finRest_.size() || finJ_ < finK_.size()) return false;
    finished_ = true;
    finRest_.clear();
    finRest_.shrink_to_fit();
    return true;
  }

  // ------------------------------------------------------------ emission (tracker.ts remove/emit/deliver/encodeFlow)

  void remove(Flow* f) {
    const uint32_t i = f->hash & bucketMask_;
    Flow* q = buckets_[i];
    if (q == f)
      buckets_[i] = f->hnext;
    else {
      while (q != nullptr && q->hnext != f) q = q->hnext;
      if (q != nullptr) q->hnext = f->hnext;
    }
    f->touch = -1;
    auxUnlink(f);
    active_--;
  }

  void emit(Flow* f, int why) {
    remove(f);
    if (why == EMIT_EVICT) evicted_++;
    encodeFlow(f, why);
    recycle(f);
  }

  void recycle(Flow* f) {
    f->reset();
    f->freeNext = freeFlows_;
    freeFlows_ = f;
  }

  int outcomeCode(const Flow* f, int why) const {
    if (!f->c->synSeen) return O_MIDSTREAM;
    if (f->handshakeDone) {
      if (f->rstFrom != 0 && f->rstTs >= f->hsAckTs) return O_RESET;
      if (f->c->finSeen || f->s->finSeen) return O_CLOSED;
      if (f->rstFrom != 0) return O_RESET;
      return O_ESTABLISHED;
    }
    if (f->s->synSeen) return O_SYNACK_UNACKED;
    if (f->s->rstSeen) return O_REFUSED;
    if (f->icmpType >= 0) return O_ICMP_REJECTED;
    if (f->c->rstSeen) return O_ABORTED_BY_CLIENT;
    if (why == EMIT_FINISH || why == EMIT_EVICT) {
      return maxTs_ - f->lastSynTs < synTimeoutS_ ? O_PENDING : O_UNANSWERED;
    }
    return O_UNANSWERED;
  }

  static int zeekCode(const Flow* f) {
    constexpr int INACTIVE = 0, PARTIAL = 1, SYN_SENT = 2, SYN_ACK_SENT = 3, ESTABLISHED = 4, CLOSED = 5, RESET = 6;
    int os = INACTIVE, rs = INACTIVE;
    const Dir* c = f->c;
    const Dir* s = f->s;
    if (c->synSeen)
      os = SYN_SENT;
    else if (c->seen)
      os = PARTIAL;
    if (s->synSeen) {
      rs = SYN_ACK_SENT;
      if (os == SYN_SENT) {
        os = ESTABLISHED;
        rs = ESTABLISHED;
      } else if (os == INACTIVE || (os == PARTIAL && f->handshakeDone)) {
        rs = ESTABLISHED;
        if (c->seen) os = ESTABLISHED;
      }
    } else if (s->seen && !s->rstSeen)
      rs = PARTIAL;
    if (c->finSeen) os = CLOSED;
    if (s->finSeen) rs = CLOSED;
    if (c->rstSeen) os = RESET;
    if (s->rstSeen) rs = RESET;
    const bool oInactive = os == INACTIVE || os == PARTIAL;
    const bool rInactive = rs == INACTIVE || rs == PARTIAL;
    if (rs == RESET) {
      if (os == SYN_SENT || os == SYN_ACK_SENT || (os == RESET && c->bytes == 0 && s->bytes == 0 && !s->synSeen))
        return Z_REJ;
      return oInactive ? Z_RSTRH : Z_RSTR;
    }
    if (os == RESET) {
      if (rInactive) return c->synSeen ? Z_RSTOS0 : Z_OTH;
      return Z_RSTO;
    }
    if (rs == CLOSED && os == CLOSED) return Z_SF;
    if (os == CLOSED) return rInactive ? Z_SH : Z_S2;
    if (rs == CLOSED) return oInactive ? Z_SHR : Z_S3;
    if (os == SYN_SENT && rs == INACTIVE) return Z_S0;
    if (os == ESTABLISHED && rs == ESTABLISHED) return Z_S1;
    return Z_OTH;
  }

  int ladderSteps(const Flow* f, int oc) const {
    const bool clean = !PROBLEM_CODE[oc] && oc != O_PENDING && f->syn <= 1 && f->synAck <= 1 && f->dataRetrans == 0 &&
                       f->duplicates == 0;
    return ladderProblemsOnly_ && clean ? -1 : (int)f->ladderN;
  }

  static size_t putAddr(double* a, size_t i, bool v6, const uint32_t* w) {
    if (v6) {
      a[i] = 6;
      a[i + 1] = w[0];
      a[i + 2] = w[1];
      a[i + 3] = w[2];
      a[i + 4] = w[3];
      return i + 5;
    }
    a[i] = 4;
    a[i + 1] = w[0];
    return i + 2;
  }

  void patch(double pos, int kind, std::initializer_list<double> params) {
    const size_t o = patches_.size();
    patches_.resize(o + PATCH_STRIDE, 0);
    patches_[o] = pos;
    patches_[o + 1] = kind;
    size_t k = o + 2;
    for (double v : params) patches_[k++] = v;
  }

  void encodeFlow(Flow* f, int why) {
    const int oc = outcomeCode(f, why);
    const int ladderN = ladderSteps(f, oc);
    const size_t start = out_.size();
    out_.resize(start + 64 + f->framesN + (ladderN > 0 ? (size_t)ladderN * 9 : 0));
    double* a = out_.data();
    size_t i = start;
    const bool v6 = f->ipv == 6;
    a[i++] = f->id;
    a[i++] = v6 ? 6 : 4;
    a[i++] = oc;
    a[i++] = zeekCode(f);
    i = putAddr(a, i, v6, f->ca);
    a[i++] = f->cp;
    i = putAddr(a, i, v6, f->sa);
    a[i++] = f->sp;
    a[i++] = f->syn;
    a[i++] = f->synAck;
    int bits = 0;
    bool forged = false;
    double why4[4] = {0, 0, 0, 0};
    uint32_t rw[4] = {0, 0, 0, 0};
    if (f->rstFrom != 0) {
      const bool fromClient = f->rstFrom == 1;
      for (int k = 0; k < 4; k++) rw[k] = fromClient ? f->ca[k] : f->sa[k];
      forged = ttl_.judgeRst(f->ipv, rw, f->rstTtl, f->rstIpId, why4);
      bits |= B_RST | (fromClient ? 0 : B_RST_SERVER) | (forged ? B_FORGED : 0);
    }
    const bool icmp = f->icmpType >= 0;
    if (icmp) bits |= B_ICMP;
    if (f->hsRttSet) bits |= B_RTT;
    const bool opts = f->c->synSeen;
    if (opts) {
      bits |= B_OPTS | (f->optMss >= 0 ? 0 : B_MSS_NULL) | (f->optWs >= 0 ? 0 : B_WS_NULL);
      bits |= (f->optSack ? B_SACK : 0) | (f->optTs ? B_TS : 0);
    }
    if (ladderN >= 0 && f->ladderSeen > ladderN) bits |= B_TRUNC;
    if (why == EMIT_EVICT) bits |= B_EVICTED;
    a[i++] = bits;
    if (bits & B_RST) {
      a[i++] = f->rstTs;
      a[i++] = f->rstFrame;
      a[i++] = f->rstTtl;
      if (forged) {
        patch((double)i, P_FORGED,
              {(double)f->ipv, (double)rw[0], (double)rw[1], (double)rw[2], (double)rw[3], (double)f->rstTtl, why4[0],
               why4[1], why4[2], (double)f->rstIpId, why4[3]});
      }
      a[i++] = 0;
    }
    if (icmp) {
      a[i++] = f->icmpType;
      a[i++] = f->icmpCode;
      i = putAddr(a, i, f->icmpIpv == 6, f->icmpA);
      a[i++] = f->icmpTs;
      a[i++] = f->icmpFrame;
    }
    a[i++] = f->dataRetrans;
    a[i++] = f->duplicates;
    if (f->hsRttSet) {
      a[i++] = f->hsSynToSynAckMs;
      a[i++] = f->hsSynAckToAckMs;
      a[i++] = f->hsTotalMs;
    }
    if (opts) {
      a[i++] = f->optMss >= 0 ? f->optMss : 0;
      a[i++] = f->optWs >= 0 ? f->optWs : 0;
    }
    a[i++] = f->c->packets;
    a[i++] = f->s->packets;
    a[i++] = f->c->bytes;
    a[i++] = f->s->bytes;
    a[i++] = f->firstTs;
    a[i++] = f->lastTs;
    a[i++] = (double)f->framesN;
    for (uint32_t k = 0; k < f->framesN; k++) a[i++] = f->frames[k];
    const int n = ladderN > 0 ? ladderN : 0;
    a[i++] = n;
    for (int k = 0; k < n; k++) {
      const Step& st = f->step((uint32_t)k);
      const int from = (int)((st.packed >> 17) & 3);
      const uint32_t flags = st.packed & 0x1ff;
      a[i++] = st.frame;
      a[i++] = st.ts;
      a[i++] = from;
      if (from == FROM_ICMP) {
        const double tc = (double)st.len;
        patch((double)i, P_ICMP_FLAGS, {std::floor(tc / 256), std::fmod(tc, 256)});
        a[i++] = 0;
        a[i++] = rel(st.seq, f->c->base);
        a[i++] = 0;
        a[i++] = 0;
      } else {
        const Dir* me = from == FROM_CLIENT ? f->c : f->s;
        const Dir* other = from == FROM_CLIENT ? f->s : f->c;
        a[i++] = flags;
        a[i++] = rel(st.seq, me->base);
        a[i++] = (flags & ACK) != 0 ? (other->seen || other->synSeen ? rel(st.ack, other->base) : 1) : 0;
        a[i++] = (double)st.len;
      }
      a[i++] = (st.packed >> 9) & 0xff;
      a[i++] = (st.packed >> 19) & 7;
    }
    a[i++] = f->synAckTtl;
    out_.resize(i);
    outcomes_.push_back((uint8_t)oc);
  }
};


// ================================================================ JSON text of connection batches
//
// The writer thread's connection text (src/report/json.ts jConnection, which
// is JSON.stringify(connectionJson(c))) made from a codec.ts batch directly:
// the same bytes, without decoding the batch into objects first. Strings of
// the batch's table arrive already as JSON text (JSON.stringify on the JS
// side: escaping stays JavaScript's own). The text primitives: batch.h JsonOut.

class JsonWriter : public Napi::ObjectWrap<JsonWriter> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "JsonWriter",
                                   {InstanceMethod("strings", &JsonWriter::Strings), InstanceMethod("write", &JsonWriter::Write)});
    exports.Set("JsonWriter", f);
  }

  explicit JsonWriter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsonWriter>(info) {
    for (int f = 0; f < 512; f++) {
      static const std::pair<int, const char*> names[] = {{0x001, "FIN"}, {0x002, "SYN"}, {0x004, "RST"},
                                                          {0x008, "PSH"}, {0x010, "ACK"}, {0x020, "URG"},
                                                          {0x040, "ECE"}, {0x080, "CWR"}, {0x100, "NS"}};
      std::string t;
      for (const auto& [bit, name] : names)
        if (f & bit) {
          if (!t.empty()) t += ",";
          t += name;
        }
      flagText_[f] = "\"" + (t.empty() ? std::string("none") : t) + "\"";
    }
  }

 private:
  std::vector<std::string> table_;  // JSON text of each string id
  std::string flagText_[512];
  JsonOut o_;

  /** strings(base, reset, texts): a batch's new strings (as JSON text), numbered from base. */
  Napi::Value Strings(const Napi::CallbackInfo& info) {
    takeStrings(info, table_, [](const Napi::String& t) { return t.Utf8Value(); });
    return info.Env().Undefined();
  }

  void str(double x) {
    const size_t id = (size_t)(-1 - x);
    if (id < table_.size())
      o_.raw(table_[id]);
    else
      o_.lit("null");  // never: the batch brings every string it uses
  }

  void named(double x, const char* const* names) {
    if (x >= 0)
      o_.quoted(names[(int)x]);
    else
      str(x);
  }

  size_t addrAt(const double* a, size_t i) {
    const double t = a[i++];
    if (t == 4) {
      o_.addr(4, a + i);
      return i + 1;
    }
    if (t == 6) {
      o_.addr(6, a + i);
      return i + 4;
    }
    str(-1 - a[i]);  // -1 then a string id
    return i + 1;
  }

  /**
   * write(nums, length, count, ndjson, first): the batch's connections as
   * text. json: each after "," (the first of the report after
   * '{"connections":[' instead); ndjson: one '{"type":"connection",...}\n'
   * line each. Returns a Buffer (copied out).
   */
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Float64Array nums = info[0].As<Napi::Float64Array>();
    const size_t length = std::min((size_t)info[1].As<Napi::Number>().Int64Value(), nums.ElementLength());
    const int64_t count = info[2].As<Napi::Number>().Int64Value();
    const bool ndjson = info[3].As<Napi::Boolean>().Value();
    bool first = info[4].As<Napi::Boolean>().Value();
    // Where this call starts and stops: [number index, connection index, connections written]
    Napi::Float64Array stArr = info[5].As<Napi::Float64Array>();
    if (stArr.ElementLength() < 3) {
      Napi::TypeError::New(info.Env(), "JsonWriter.write: state array too short").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    double* st = stArr.Data();
    const double* a = nums.Data();
    JsonOut& o = o_;
    o.start();
    size_t i = (size_t)st[0];
    int64_t k = (int64_t)st[1];
    const int64_t k0 = k;
    // At most ~256 KB of text a call: the buffer stays in the core's own cache
    // instead of streaming megabytes through the cache the flow table shares.
    constexpr size_t CHUNK = 1u << 18;
    for (; k < count && i < length && o.size() < CHUNK; k++) {
      // Room for this connection's fixed fields (frames, steps and strings reserve their own).
      o.ensure(4096);
      if (ndjson)
        o.lit("{\"type\":\"connection\",\"id\":");
      else if (first) {
        o.lit("{\"connections\":[{\"id\":");
        first = false;
      } else
        o.lit(",{\"id\":");
      o.num(a[i++]);
      o.lit(",\"ipVersion\":");
      o.num(a[i++]);
      const double outcome = a[i++];
      const double zeek = a[i++];
      o.lit(",\"client\":{\"ip\":");
      i = addrAt(a, i);
      o.lit(",\"port\":");
      o.num(a[i++]);
      o.lit("},\"server\":{\"ip\":");
      i = addrAt(a, i);
      o.lit(",\"port\":");
      o.num(a[i++]);
      o.lit("},\"outcome\":");
      named(outcome, OUTCOME_NAMES);
      o.lit(",\"zeekState\":");
      named(zeek, ZEEK_NAMES);
      const double syn = a[i++];
      const double synAck = a[i++];
      o.lit(",\"syn\":");
      o.num(syn);
      o.lit(",\"synAck\":");
      o.num(synAck);
      const int bits = (int)a[i++];
      o.lit(",\"rst\":");
      if (bits & B_RST) {
        if (bits & B_RST_SERVER)
          o.lit("{\"from\":\"server\",\"ts\":");
        else
          o.lit("{\"from\":\"client\",\"ts\":");
        o.num(a[i++]);
        o.lit(",\"frame\":");
        o.num(a[i++]);
        o.lit(",\"ttl\":");
        o.num(a[i++]);
        if (bits & B_FORGED)
          o.lit(",\"suspectedForged\":true,\"forgedReason\":");
        else
          o.lit(",\"suspectedForged\":false,\"forgedReason\":");
        const double fr = a[i++];
        if (fr == 0)
          o.lit("null");
        else
          str(fr);
        o.ch('}');
      } else {
        o.lit("null");
      }
      o.lit(",\"icmp\":");
      if (bits & B_ICMP) {
        o.lit("{\"type\":");
        o.num(a[i++]);
        o.lit(",\"code\":");
        o.num(a[i++]);
        o.lit(",\"from\":");
        i = addrAt(a, i);
        o.lit(",\"ts\":");
        o.num(a[i++]);
        o.lit(",\"frame\":");
        o.num(a[i++]);
        o.ch('}');
      } else {
        o.lit("null");
      }
      o.lit(",\"retransmissions\":{\"data\":");
      o.num(a[i++]);
      o.lit(",\"syn\":");
      o.num(std::max(syn - 1, 0.0));
      o.lit(",\"synAck\":");
      o.num(std::max(synAck - 1, 0.0));
      o.lit("},\"duplicates\":");
      o.num(a[i++]);
      o.lit(",\"handshakeRttMs\":");
      if (bits & B_RTT) {
        o.lit("{\"synToSynAck\":");
        o.num(a[i++]);
        o.lit(",\"synAckToAck\":");
        o.num(a[i++]);
        o.lit(",\"total\":");
        o.num(a[i++]);
        o.ch('}');
      } else {
        o.lit("null");
      }
      o.lit(",\"synOptions\":");
      if (bits & B_OPTS) {
        const double mss = a[i++];
        const double ws = a[i++];
        o.lit("{\"mss\":");
        if (bits & B_MSS_NULL)
          o.lit("null");
        else
          o.num(mss);
        o.lit(",\"windowScale\":");
        if (bits & B_WS_NULL)
          o.lit("null");
        else
          o.num(ws);
        if (bits & B_SACK)
          o.lit(",\"sackPermitted\":true");
        else
          o.lit(",\"sackPermitted\":false");
        if (bits & B_TS)
          o.lit(",\"timestamps\":true}");
        else
          o.lit(",\"timestamps\":false}");
      } else {
        o.lit("null");
      }
      o.lit(",\"packets\":{\"client\":");
      o.num(a[i++]);
      o.lit(",\"server\":");
      o.num(a[i++]);
      o.lit("},\"bytes\":{\"client\":");
      o.num(a[i++]);
      o.lit(",\"server\":");
      o.num(a[i++]);
      o.lit("},\"firstTs\":");
      o.num(a[i++]);
      o.lit(",\"lastTs\":");
      o.num(a[i++]);
      o.lit(",\"frames\":[");
      const size_t nf = (size_t)a[i++];
      o.ensure(nf * 32 + 256);
      for (size_t j = 0; j < nf; j++) {
        if (j > 0) o.ch(',');
        o.num(a[i++]);
      }
      o.lit("],\"ladder\":[");
      const size_t nl = (size_t)a[i++];
      o.ensure(nl * 400 + 256);
      for (size_t j = 0; j < nl; j++) {
        if (j > 0) o.ch(',');
        o.lit("{\"frame\":");
        o.num(a[i++]);
        o.lit(",\"ts\":");
        o.num(a[i++]);
        o.lit(",\"from\":");
        named(a[i++], SIDE_NAMES);
        o.lit(",\"flags\":");
        const double fl = a[i++];
        if (fl >= 0)
          o.raw(flagText_[(int)fl & 0x1ff]);
        else
          str(fl);
        o.lit(",\"seq\":");
        o.num(a[i++]);
        o.lit(",\"ack\":");
        o.num(a[i++]);
        o.lit(",\"len\":");
        o.num(a[i++]);
        o.lit(",\"ttl\":");
        o.num(a[i++]);
        o.lit(",\"note\":");
        const double nt = a[i++];
        if (nt == 0)
          o.lit("null");
        else if (nt > 0)
          o.quoted(NOTE_NAMES[(int)nt]);
        else
          str(nt);
        o.ch('}');
      }
      o.ch(']');
      switch (((bits & B_TRUNC) ? 1 : 0) | ((bits & B_EVICTED) ? 2 : 0)) {
        case 0:
          o.lit(",\"ladderTruncated\":false,\"evicted\":false}");
          break;
        case 1:
          o.lit(",\"ladderTruncated\":true,\"evicted\":false}");
          break;
        case 2:
          o.lit(",\"ladderTruncated\":false,\"evicted\":true}");
          break;
        default:
          o.lit(",\"ladderTruncated\":true,\"evicted\":true}");
      }
      if (ndjson) o.ch('\n');
      i++;  // synAckTtl
    }
    st[0] = (double)i;
    st[1] = (double)k;
    st[2] = (double)(k - k0);
    // A view of the reused buffer, valid until the next write() (the writer copies or writes it at once).
    return Napi::Buffer<char>::New(info.Env(), o.buf.data(), o.size(), [](Napi::Env, char*) {});
  }
};

}  // namespace

// diagnose.cc
void InitDiagnoser(Napi::Env env, Napi::Object exports);

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  Tracker::Init(env, exports);
  JsonWriter::Init(env, exports);
  InitDiagnoser(env, exports);
  return exports;
}

NODE_API_MODULE(synsent_flows, InitAll)
