// synsent's own N-API binding to libpcap.
//
// Design (see src/sources/live.ts for the JS side):
// - A Capture is opened with pcap_create + pcap_set_* + pcap_activate, so every
//   activation failure comes back with its pcap status code (NO_SUCH_DEVICE,
//   PERM_DENIED, IFACE_NOT_UP, ...) and the JS layer can say what to do.
// - The handle is put in non-blocking mode. Waiting for packets happens on a
//   libuv pool thread that poll()s the selectable fd together with an eventfd
//   used to wake it on close; the event loop itself never blocks.
// - dispatch() runs on the main thread and fills caller-owned typed arrays (the
//   RecordBatch layout of src/sources/record.ts) with as many packets as fit,
//   so JavaScript is entered once per batch, not once per packet.

#include <napi.h>
#include <pcap/pcap.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace {

const char* StatusName(int status) {
  switch (status) {
    case PCAP_ERROR: return "ERROR";
    case PCAP_ERROR_BREAK: return "BREAK";
    case PCAP_ERROR_NOT_ACTIVATED: return "NOT_ACTIVATED";
    case PCAP_ERROR_ACTIVATED: return "ACTIVATED";
    case PCAP_ERROR_NO_SUCH_DEVICE: return "NO_SUCH_DEVICE";
    case PCAP_ERROR_RFMON_NOTSUP: return "RFMON_NOTSUP";
    case PCAP_ERROR_NOT_RFMON: return "NOT_RFMON";
    case PCAP_ERROR_PERM_DENIED: return "PERM_DENIED";
    case PCAP_ERROR_IFACE_NOT_UP: return "IFACE_NOT_UP";
    case PCAP_ERROR_CANTSET_TSTAMP_TYPE: return "CANTSET_TSTAMP_TYPE";
    case PCAP_ERROR_PROMISC_PERM_DENIED: return "PROMISC_PERM_DENIED";
    case PCAP_ERROR_TSTAMP_PRECISION_NOTSUP: return "TSTAMP_PRECISION_NOTSUP";
    case PCAP_WARNING: return "WARNING";
    case PCAP_WARNING_PROMISC_NOTSUP: return "WARNING_PROMISC_NOTSUP";
    case PCAP_WARNING_TSTAMP_TYPE_NOTSUP: return "WARNING_TSTAMP_TYPE_NOTSUP";
    default: return "UNKNOWN";
  }
}

// pcap_datalink() returns a DLT_ value; the record contract wants LINKTYPE_
// values as written in files. They are equal except for a few historical DLTs
// (libpcap's dlt_to_linktype is private, so the cases that occur on capture
// platforms are mapped here).
uint32_t DltToLinkType(int dlt) {
  switch (dlt) {
#ifdef DLT_RAW
    case DLT_RAW: return 101;  // LINKTYPE_RAW (DLT_RAW is 12 or 14 by platform)
#endif
    case 14: return 101;
    default: return static_cast<uint32_t>(dlt);
  }
}

Napi::Error MakeError(Napi::Env env, const std::string& message, const char* code, int status) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.Set("pcapStatus", Napi::Number::New(env, status));
  return err;
}

struct Pending {
  pcap_pkthdr hdr;
  std::vector<uint8_t> bytes;
};

class Capture;

struct Fill {
  Capture* self;
  uint8_t* data;
  size_t dataLen;
  size_t used;
  uint32_t* offset;
  uint32_t* capLen;
  uint32_t* origLen;
  double* tsSec;
  uint32_t* tsNsec;
  uint32_t max;
  uint32_t n;
  bool full;
};

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Capture", {
      InstanceMethod("dispatch", &Capture::Dispatch),
      InstanceMethod("wait", &Capture::Wait),
      InstanceMethod("stats", &Capture::Stats),
      InstanceMethod("setFilter", &Capture::SetFilter),
      InstanceMethod("close", &Capture::Close),
      InstanceMethod("interrupt", &Capture::Interrupt),
      InstanceMethod("linkState", &Capture::LinkState),
      InstanceAccessor("linkType", &Capture::GetLinkType, nullptr),
      InstanceAccessor("linkTypeName", &Capture::GetLinkTypeName, nullptr),
      InstanceAccessor("snaplen", &Capture::GetSnaplen, nullptr),
      InstanceAccessor("nanosecond", &Capture::GetNanosecond, nullptr),
      InstanceAccessor("warnings", &Capture::GetWarnings, nullptr),
      InstanceAccessor("closed", &Capture::GetClosed, nullptr),
    });
  }

  // new Capture({ device, snaplen, promisc, bufferSize, immediate, timeoutMs, nanosecond })
  explicit Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "Capture(options): options object required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    if (!o.Get("device").IsString()) {
      Napi::TypeError::New(env, "Capture: options.device must be a string").ThrowAsJavaScriptException();
      return;
    }
    device_ = o.Get("device").As<Napi::String>().Utf8Value();
    auto num = [&](const char* key, int64_t def) -> int64_t {
      Napi::Value v = o.Get(key);
      return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : def;
    };
    auto flag = [&](const char* key, bool def) -> bool {
      Napi::Value v = o.Get(key);
      return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : def;
    };
    int snaplen = static_cast<int>(num("snaplen", 262144));
    bool promisc = flag("promisc", true);
    int64_t bufferSize = num("bufferSize", 0);
    bool immediate = flag("immediate", true);
    int timeoutMs = static_cast<int>(num("timeoutMs", 100));
    bool wantNano = flag("nanosecond", true);

    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = 0;
    p_ = pcap_create(device_.c_str(), errbuf);
    if (p_ == nullptr) {
      MakeError(env, errbuf, "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
      return;
    }
    pcap_set_snaplen(p_, snaplen);
    pcap_set_promisc(p_, promisc ? 1 : 0);
    pcap_set_timeout(p_, timeoutMs);
    if (bufferSize > 0) pcap_set_buffer_size(p_, static_cast<int>(bufferSize));
    pcap_set_immediate_mode(p_, immediate ? 1 : 0);
    if (wantNano) {
      // Not every platform/libpcap has nanosecond stamps: fall back to micro.
      if (pcap_set_tstamp_precision(p_, PCAP_TSTAMP_PRECISION_NANO) != 0) {
        pcap_set_tstamp_precision(p_, PCAP_TSTAMP_PRECISION_MICRO);
      }
    }
    int status = pcap_activate(p_);
    if (status < 0) {
      std::string detail = pcap_geterr(p_);
      if (detail.empty()) detail = pcap_statustostr(status);
      pcap_close(p_);
      p_ = nullptr;
      MakeError(env, detail, StatusName(status), status).ThrowAsJavaScriptException();
      return;
    }
    if (status > 0) {
      std::string w = std::string(StatusName(status)) + ": ";
      const char* e = pcap_geterr(p_);
      w += (e && *e) ? e : pcap_statustostr(status);
      warnings_.push_back(w);
    }
    nano_ = pcap_get_tstamp_precision(p_) == PCAP_TSTAMP_PRECISION_NANO;
    if (pcap_setnonblock(p_, 1, errbuf) != 0) {
      std::string msg = errbuf;
      pcap_close(p_);
      p_ = nullptr;
      MakeError(env, "cannot set non-blocking mode: " + msg, "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
      return;
    }
    fd_ = pcap_get_selectable_fd(p_);
    if (fd_ < 0) {
      pcap_close(p_);
      p_ = nullptr;
      MakeError(env, "this platform has no selectable descriptor for capture handles", "ERROR", PCAP_ERROR)
          .ThrowAsJavaScriptException();
      return;
    }
    wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd_ < 0) {
      pcap_close(p_);
      p_ = nullptr;
      MakeError(env, std::string("eventfd: ") + strerror(errno), "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
      return;
    }
    dlt_ = pcap_datalink(p_);
    snaplen_ = pcap_snapshot(p_);
  }

  ~Capture() override { ReallyClose(); }

  // Called from the wait worker when it finishes on the main thread.
  void WaitDone() {
    waiting_ = false;
    if (closing_) ReallyClose();
  }

  int fd() const { return fd_; }
  int wakeFd() const { return wakeFd_; }
  pcap_t* handle() const { return p_; }

  void Stash(const pcap_pkthdr* h, const u_char* bytes) {
    Pending pk;
    pk.hdr = *h;
    pk.bytes.assign(bytes, bytes + h->caplen);
    pending_.push_back(std::move(pk));
  }

  bool nano() const { return nano_; }

 private:
  void ReallyClose() {
    if (p_ != nullptr) {
      pcap_close(p_);
      p_ = nullptr;
    }
    if (wakeFd_ >= 0) {
      close(wakeFd_);
      wakeFd_ = -1;
    }
    fd_ = -1;
  }

  static bool Put(Fill* f, const pcap_pkthdr* h, const u_char* bytes) {
    if (f->n >= f->max || f->used + h->caplen > f->dataLen) return false;
    uint32_t i = f->n++;
    memcpy(f->data + f->used, bytes, h->caplen);
    f->offset[i] = static_cast<uint32_t>(f->used);
    f->capLen[i] = h->caplen;
    f->origLen[i] = h->len;
    f->tsSec[i] = static_cast<double>(h->ts.tv_sec);
    // With PCAP_TSTAMP_PRECISION_NANO libpcap puts nanoseconds in tv_usec.
    f->tsNsec[i] = f->self->nano() ? static_cast<uint32_t>(h->ts.tv_usec)
                                   : static_cast<uint32_t>(h->ts.tv_usec) * 1000u;
    f->used += h->caplen;
    return true;
  }

  static void OnPacket(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    Fill* f = reinterpret_cast<Fill*>(user);
    if (f->full || !Put(f, h, bytes)) {
      // No room left in this batch: keep the packet for the next one rather
      // than lose it, and stop the dispatch loop.
      f->full = true;
      f->self->Stash(h, bytes);
      pcap_breakloop(f->self->handle());
    }
  }

  // dispatch(data: Uint8Array, offset, capLen, origLen: Uint32Array,
  //          tsSec: Float64Array, tsNsec: Uint32Array, maxRecords): number
  Napi::Value Dispatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (p_ == nullptr || closing_) return Napi::Number::New(env, 0);
    if (info.Length() < 7 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
        !info[3].IsTypedArray() || !info[4].IsTypedArray() || !info[5].IsTypedArray() || !info[6].IsNumber()) {
      Napi::TypeError::New(env, "dispatch(data, offset, capLen, origLen, tsSec, tsNsec, maxRecords)")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto data = info[0].As<Napi::Uint8Array>();
    auto offset = info[1].As<Napi::Uint32Array>();
    auto capLen = info[2].As<Napi::Uint32Array>();
    auto origLen = info[3].As<Napi::Uint32Array>();
    auto tsSec = info[4].As<Napi::Float64Array>();
    auto tsNsec = info[5].As<Napi::Uint32Array>();
    if (data.TypedArrayType() != napi_uint8_array || offset.TypedArrayType() != napi_uint32_array ||
        capLen.TypedArrayType() != napi_uint32_array || origLen.TypedArrayType() != napi_uint32_array ||
        tsSec.TypedArrayType() != napi_float64_array || tsNsec.TypedArrayType() != napi_uint32_array) {
      Napi::TypeError::New(env, "dispatch: wrong typed array types").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    size_t max = static_cast<size_t>(info[6].As<Napi::Number>().Int64Value());
    max = std::min({max, offset.ElementLength(), capLen.ElementLength(), origLen.ElementLength(),
                    tsSec.ElementLength(), tsNsec.ElementLength()});
    Fill f{this, data.Data(), data.ByteLength(), 0, offset.Data(), capLen.Data(), origLen.Data(),
           tsSec.Data(), tsNsec.Data(), static_cast<uint32_t>(max), 0, false};

    while (!pending_.empty()) {
      Pending& pk = pending_.front();
      if (!Put(&f, &pk.hdr, pk.bytes.data())) {
        if (f.n == 0) {
          MakeError(env, "dispatch: data buffer smaller than one captured packet", "ERROR", PCAP_ERROR)
              .ThrowAsJavaScriptException();
          return env.Undefined();
        }
        return Napi::Number::New(env, f.n);
      }
      pending_.pop_front();
    }
    // Non-blocking: each call returns what is in the ring now. Loop because one
    // call may stop at a ring-block boundary.
    for (int rounds = 0; rounds < 64 && f.n < f.max && !f.full; rounds++) {
      int rc = pcap_dispatch(p_, static_cast<int>(f.max - f.n), OnPacket, reinterpret_cast<u_char*>(&f));
      if (rc == PCAP_ERROR_BREAK) break;
      if (rc < 0) {
        std::string msg = pcap_geterr(p_);
        MakeError(env, msg.empty() ? pcap_statustostr(rc) : msg, StatusName(rc), rc).ThrowAsJavaScriptException();
        return env.Undefined();
      }
      if (rc == 0) break;
    }
    return Napi::Number::New(env, f.n);
  }

  Napi::Value Wait(const Napi::CallbackInfo& info);

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (p_ == nullptr) {
      MakeError(env, "capture is closed", "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    pcap_stat st;
    memset(&st, 0, sizeof st);
    if (pcap_stats(p_, &st) != 0) {
      MakeError(env, pcap_geterr(p_), "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("received", Napi::Number::New(env, st.ps_recv));
    o.Set("dropped", Napi::Number::New(env, st.ps_drop));
    o.Set("ifDropped", Napi::Number::New(env, st.ps_ifdrop));
    return o;
  }

  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (p_ == nullptr) {
      MakeError(env, "capture is closed", "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(env, "setFilter(text)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    std::string text = info[0].As<Napi::String>().Utf8Value();
    bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
    char errbuf[PCAP_ERRBUF_SIZE];
    if (pcap_lookupnet(device_.c_str(), &net, &mask, errbuf) != 0) mask = PCAP_NETMASK_UNKNOWN;
    bpf_program prog;
    if (pcap_compile(p_, &prog, text.c_str(), 1, mask) != 0) {
      MakeError(env, pcap_geterr(p_), "BAD_FILTER", PCAP_ERROR).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int rc = pcap_setfilter(p_, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
      MakeError(env, pcap_geterr(p_), "BAD_FILTER", PCAP_ERROR).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return env.Undefined();
  }

  // linkState(): "up" | "down" | "gone" | "unknown", from SIOCGIFFLAGS on the
  // device name in this process's network namespace. libpcap 1.10 keeps a
  // capture open (and silent) when its interface goes down, so the JS side
  // asks on quiet moments and ends the capture itself.
  Napi::Value LinkState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (device_.empty() || device_.size() >= IFNAMSIZ) return Napi::String::New(env, "unknown");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return Napi::String::New(env, "unknown");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, device_.c_str(), device_.size());
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    int err = errno;
    close(s);
    if (rc != 0) return Napi::String::New(env, err == ENODEV || err == ENXIO ? "gone" : "unknown");
    return Napi::String::New(env, (ifr.ifr_flags & IFF_UP) ? "up" : "down");
  }

  // Wake a pending wait() (it resolves "interrupted") without closing, so the
  // caller can still read stats() after stopping.
  Napi::Value Interrupt(const Napi::CallbackInfo& info) {
    if (wakeFd_ >= 0) {
      uint64_t one = 1;
      ssize_t w = write(wakeFd_, &one, sizeof one);
      (void)w;
    }
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (closing_ || p_ == nullptr) return info.Env().Undefined();
    closing_ = true;
    if (waiting_) {
      // The pool thread is in poll() on our fd: wake it and close when it returns.
      uint64_t one = 1;
      ssize_t w = write(wakeFd_, &one, sizeof one);
      (void)w;
    } else {
      ReallyClose();
    }
    return info.Env().Undefined();
  }

  Napi::Value GetLinkType(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), DltToLinkType(dlt_));
  }
  Napi::Value GetLinkTypeName(const Napi::CallbackInfo& info) {
    const char* n = pcap_datalink_val_to_name(dlt_);
    return Napi::String::New(info.Env(), n ? n : "UNKNOWN");
  }
  Napi::Value GetSnaplen(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), snaplen_); }
  Napi::Value GetNanosecond(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), nano_); }
  Napi::Value GetClosed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), closing_ || p_ == nullptr);
  }
  Napi::Value GetWarnings(const Napi::CallbackInfo& info) {
    Napi::Array a = Napi::Array::New(info.Env(), warnings_.size());
    for (size_t i = 0; i < warnings_.size(); i++) a.Set(static_cast<uint32_t>(i), warnings_[i]);
    return a;
  }

  std::string device_;
  pcap_t* p_ = nullptr;
  int fd_ = -1;
  int wakeFd_ = -1;
  int dlt_ = 0;
  int snaplen_ = 0;
  bool nano_ = false;
  bool waiting_ = false;
  bool closing_ = false;
  std::vector<std::string> warnings_;
  std::deque<Pending> pending_;

  friend class WaitWorker;
};

// Waits on a pool thread until the capture fd is readable, the timeout passes,
// or close()/interrupt() wakes it. Resolves "readable" | "timeout" |
// "interrupted" | "closed".
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, Capture* cap, Napi::Object self, int timeoutMs)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), cap_(cap), fd_(cap->fd()),
        wakeFd_(cap->wakeFd()), timeoutMs_(timeoutMs) {
    selfRef_ = Napi::Persistent(self);  // keep the Capture alive while we poll its fd
    const struct timeval* req = pcap_get_required_select_timeout(cap->handle());
    if (req != nullptr) {
      int reqMs = static_cast<int>(req->tv_sec * 1000 + req->tv_usec / 1000);
      if (reqMs < 1) reqMs = 1;
      if (timeoutMs_ < 0 || reqMs < timeoutMs_) timeoutMs_ = reqMs;
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    pollfd fds[2];
    fds[0].fd = fd_;
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    fds[1].fd = wakeFd_;
    fds[1].events = POLLIN;
    fds[1].revents = 0;
    int rc = poll(fds, 2, timeoutMs_);
    if (rc < 0) {
      result_ = errno == EINTR ? "timeout" : "error";
      if (errno != EINTR) SetError(std::string("poll: ") + strerror(errno));
      return;
    }
    if (fds[1].revents != 0) {
      uint64_t v;
      ssize_t r = read(wakeFd_, &v, sizeof v);  // reset the eventfd for the next wait
      (void)r;
      result_ = "interrupted";
    } else if (fds[0].revents != 0) {
      // POLLERR/POLLHUP too: dispatch() will then report what went wrong.
      result_ = "readable";
    } else {
      result_ = "timeout";
    }
  }

  void OnOK() override {
    bool closing = cap_->closing_;
    cap_->WaitDone();
    deferred_.Resolve(Napi::String::New(Env(), closing ? "closed" : result_));
  }

  void OnError(const Napi::Error& e) override {
    cap_->WaitDone();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Capture* cap_;
  Napi::ObjectReference selfRef_;
  int fd_;
  int wakeFd_;
  int timeoutMs_;
  std::string result_ = "timeout";
};

Napi::Value Capture::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int timeoutMs = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1000;
  if (p_ == nullptr || closing_) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(Napi::String::New(env, "closed"));
    return d.Promise();
  }
  if (!pending_.empty()) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(Napi::String::New(env, "readable"));
    return d.Promise();
  }
  if (waiting_) {
    MakeError(env, "wait() already in progress", "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  waiting_ = true;
  auto* w = new WaitWorker(env, this, info.This().As<Napi::Object>(), timeoutMs);
  Napi::Promise pr = w->Promise();
  w->Queue();
  return pr;
}

Napi::Value AddrToString(Napi::Env env, const sockaddr* sa) {
  if (sa == nullptr) return env.Null();
  char buf[INET6_ADDRSTRLEN + 1];
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    return Napi::String::New(env, buf);
  }
  if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
    return Napi::String::New(env, buf);
  }
  return env.Null();
}

// findAllDevs(): [{ name, description, flags, addresses: [{ family, addr, netmask, broadaddr, dstaddr }] }]
// Order is libpcap's: it sorts up-and-running, non-loopback interfaces first,
// which is the order `tcpdump -D` shows and tcpdump picks its default from.
Napi::Value FindAllDevs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_if_t* all = nullptr;
  if (pcap_findalldevs(&all, errbuf) != 0) {
    MakeError(env, errbuf, "ERROR", PCAP_ERROR).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (pcap_if_t* d = all; d != nullptr; d = d->next) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", d->name);
    o.Set("description", d->description ? Napi::Value(Napi::String::New(env, d->description)) : env.Null());
    o.Set("flags", Napi::Number::New(env, d->flags));
    Napi::Array addrs = Napi::Array::New(env);
    uint32_t j = 0;
    for (pcap_addr_t* a = d->addresses; a != nullptr; a = a->next) {
      if (a->addr == nullptr) continue;
      int fam = a->addr->sa_family;
      if (fam != AF_INET && fam != AF_INET6) continue;
      Napi::Object ao = Napi::Object::New(env);
      ao.Set("family", fam == AF_INET ? "IPv4" : "IPv6");
      ao.Set("addr", AddrToString(env, a->addr));
      ao.Set("netmask", AddrToString(env, a->netmask));
      ao.Set("broadaddr", AddrToString(env, a->broadaddr));
      ao.Set("dstaddr", AddrToString(env, a->dstaddr));
      addrs.Set(j++, ao);
    }
    o.Set("addresses", addrs);
    out.Set(i++, o);
  }
  pcap_freealldevs(all);
  return out;
}

// checkFilter(text, linkType = 1, snaplen = 262144): null when it compiles, else pcap's reason.
// Lets the CLI reject a bad filter before it needs privileges to open an interface.
Napi::Value CheckFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "checkFilter(text, linkType?, snaplen?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string text = info[0].As<Napi::String>().Utf8Value();
  int dlt = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : DLT_EN10MB;
  if (dlt == 101) dlt = DLT_RAW;
  int snaplen = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 262144;
  pcap_t* dead = pcap_open_dead(dlt, snaplen);
  if (dead == nullptr) return Napi::String::New(env, "cannot create a pcap handle to compile the filter");
  bpf_program prog;
  Napi::Value result = env.Null();
  if (pcap_compile(dead, &prog, text.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    result = Napi::String::New(env, pcap_geterr(dead));
  } else {
    pcap_freecode(&prog);
  }
  pcap_close(dead);
  return result;
}

Napi::Value LibVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", Capture::Init(env));
  exports.Set("findAllDevs", Napi::Function::New(env, FindAllDevs));
  exports.Set("checkFilter", Napi::Function::New(env, CheckFilter));
  exports.Set("libVersion", Napi::Function::New(env, LibVersion));
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("LOOPBACK", PCAP_IF_LOOPBACK);
  flags.Set("UP", PCAP_IF_UP);
  flags.Set("RUNNING", PCAP_IF_RUNNING);
  flags.Set("WIRELESS", PCAP_IF_WIRELESS);
  flags.Set("CONNECTION_STATUS", PCAP_IF_CONNECTION_STATUS);
  flags.Set("CONNECTED", PCAP_IF_CONNECTION_STATUS_CONNECTED);
  flags.Set("DISCONNECTED", PCAP_IF_CONNECTION_STATUS_DISCONNECTED);
  flags.Set("NOT_APPLICABLE", PCAP_IF_CONNECTION_STATUS_NOT_APPLICABLE);
  exports.Set("IF_FLAGS", flags);
  return exports;
}

}  // namespace

NODE_API_MODULE(synsent_pcap, InitModule)
