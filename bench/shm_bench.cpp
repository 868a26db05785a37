// shm-bench: what the shared-memory transport costs on this machine.
//
//   latency     one-way, 64-byte bodies, two processes (ping-pong; measured at the
//               receiver from the sender's send() call to the receiver's callback)
//   ring4       client -> replica 0 -> replica 1 -> replica 2 -> client, time per round;
//               plus the same ring over bare spsc_queue rings (what the primitive costs)
//   idle        CPU used by an idle replica waiting on its doorbell (getrusage, 2 s)
//   throughput  one producer, one consumer, 64-byte and 4 KiB bodies
//
// Waiting styles: spin (poll in a loop), window (wait(): yield-poll while recently busy,
// then futex), futex (wait() with a zero window: sleeps every time).
// Each benchmark runs --runs times; the medians are printed last.
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/mman.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "shm/client_port.h"
#include "shm/doorbell.h"
#include "shm/replica_port.h"

namespace {

using namespace vsr;
using namespace vsr::shm;
using namespace std::chrono_literals;

enum class Style { spin, window, futex };
const char* name(Style s) {
  switch (s) {
    case Style::spin:
      return "spin";
    case Style::window:
      return "window";
    case Style::futex:
      return "futex";
  }
  return "?";
}

PortOptions g_options;  // --spin-window-us, --polls-between-yields

PortOptions options_for(Style style) {
  PortOptions o = g_options;
  if (style == Style::futex) o.spin_window = 0us;
  return o;
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(detail::monotonic_now().count());
}

// Memory shared with the forked benchmark processes.
template <typename T>
T* shared_new() {
  void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return new (p) T();
}
template <typename T>
void shared_delete(T* p) {
  p->~T();
  ::munmap(p, sizeof(T));
}

template <typename F>
pid_t spawn(F&& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 1;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "shm-bench child: %s\n", e.what());
    }
    ::_exit(code);
  }
  return pid;
}
void reap(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
}

// Polls (and, unless spinning, waits) until `done()`.
template <typename Port, typename F, typename Done>
void serve(Port& port, Style style, F&& on_message, Done&& done) {
  while (!done()) {
    if (port.poll(on_message) == 0 && style != Style::spin) port.wait(1s);
  }
}

struct Percentiles {
  double p50 = 0, p99 = 0, p999 = 0;
};
Percentiles percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
  };
  return Percentiles{at(0.50), at(0.99), at(0.999)};
}

constexpr std::size_t kMaxSamples = 200000;
struct Samples {
  std::atomic<std::uint64_t> count{0};
  std::atomic<int> ready{0};
  double us[kMaxSamples];
};

// Two processes: replica 0 sends (timestamp in the body), replica 1 records the one-way
// latency and echoes; the next message leaves when the echo is back.
Percentiles latency_two(const std::string& cluster, Style style, std::size_t samples) {
  const std::size_t warmup = std::min<std::size_t>(1000, samples / 5);
  auto* shared = shared_new<Samples>();
  const std::size_t total = warmup + samples;
  const pid_t echo = spawn([&] {
    Segment s = Segment::attach(cluster);
    ReplicaPort r1(s, 1, options_for(style));
    shared->ready.store(1);
    std::size_t seen = 0;
    serve(
        r1, style,
        [&](Endpoint, std::uint16_t, ByteView body) {
          std::uint64_t sent = 0;
          std::memcpy(&sent, body.data(), 8);
          const double us = static_cast<double>(now_ns() - sent) / 1e3;
          if (seen >= warmup) shared->us[seen - warmup] = us;
          ++seen;
          r1.send(Endpoint::replica(0), 2, body);
          r1.flush();
        },
        [&] { return seen >= total; });
    return 0;
  });
  while (shared->ready.load() == 0)
    ::usleep(100);
  {
    Segment s = Segment::attach(cluster);
    ReplicaPort r0(s, 0, options_for(style));
    std::byte body[64] = {};
    for (std::size_t i = 0; i < total; ++i) {
      const std::uint64_t t = now_ns();
      std::memcpy(body, &t, 8);
      r0.send(Endpoint::replica(1), 1, ByteView(body, 64));
      r0.flush();
      bool back = false;
      serve(
          r0, style, [&](Endpoint, std::uint16_t, ByteView) { back = true; }, [&] { return back; });
    }
  }
  reap(echo);
  const Percentiles p = percentiles(std::vector<double>(shared->us, shared->us + samples));
  shared_delete(shared);
  return p;
}

// Four processes: the client sends, replicas 0 -> 1 -> 2 forward, replica 2 replies to
// the client; time per round at the client.
Percentiles latency_ring4(const std::string& cluster, Style style, std::size_t samples) {
  const std::size_t warmup = std::min<std::size_t>(1000, samples / 5);
  const std::size_t total = warmup + samples;
  auto* shared = shared_new<Samples>();
  std::vector<pid_t> replicas;
  for (std::uint32_t id = 0; id < 3; ++id) {
    replicas.push_back(spawn([&, id] {
      Segment s = Segment::attach(cluster);
      ReplicaPort r(s, id, options_for(style));
      shared->ready.fetch_add(1);
      std::size_t forwarded = 0;
      serve(
          r, style,
          [&](Endpoint, std::uint16_t, ByteView body) {
            // The body carries the client's slot generation for the last hop.
            std::uint32_t generation = 0;
            std::memcpy(&generation, body.data(), 4);
            r.send(id < 2 ? Endpoint::replica(id + 1) : Endpoint::client(0, generation), 1, body);
            r.flush();
            ++forwarded;
          },
          [&] { return forwarded >= total; });
      return 0;
    }));
  }
  while (shared->ready.load() < 3)
    ::usleep(100);
  std::vector<double> us;
  us.reserve(samples);
  {
    Segment s = Segment::attach(cluster);
    ClientPort c = ClientPort::claim(s, options_for(style));
    std::byte body[64] = {};
    const std::uint32_t generation = c.generation();
    std::memcpy(body, &generation, 4);
    for (std::size_t i = 0; i < total; ++i) {
      const std::uint64_t t = now_ns();
      c.send(0, 1, ByteView(body, 64));
      c.flush();
      bool back = false;
      serve(
          c, style, [&](Endpoint, std::uint16_t, ByteView) { back = true; }, [&] { return back; });
      if (i >= warmup) us.push_back(static_cast<double>(now_ns() - t) / 1e3);
    }
  }
  for (const pid_t pid : replicas)
    reap(pid);
  shared_delete(shared);
  return percentiles(us);
}

// Reference for ring4: the same token ring over bare spsc_queue byte rings in an
// anonymous shared mapping, no frames, checksums, ports or doorbells; each process
// checks its ring and yields. What the ring primitive itself costs per round here.
Percentiles latency_ring4_bare(std::size_t samples) {
  constexpr int kProcesses = 4;
  constexpr std::size_t kToken = 120;  // a 64-byte body in a frame
  const std::size_t warmup = std::min<std::size_t>(1000, samples / 5);
  const std::size_t total = warmup + samples;
  void* memory = ::mmap(nullptr, sizeof(ClientRing) * kProcesses, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) std::abort();
  auto* rings = static_cast<ClientRing*>(memory);
  for (int i = 0; i < kProcesses; ++i)
    new (&rings[i]) ClientRing();
  auto pass = [&](int from, int to, std::byte* buffer) {
    while (rings[from].read_available() < kToken)
      ::sched_yield();
    pop_all(rings[from], buffer, kToken);
    push_whole(rings[to], ByteView(buffer, kToken));
  };
  std::vector<pid_t> children;
  for (int p = 1; p < kProcesses; ++p) {
    children.push_back(spawn([&, p] {
      std::byte buffer[kToken];
      for (std::size_t i = 0; i < total; ++i)
        pass(p, (p + 1) % kProcesses, buffer);
      return 0;
    }));
  }
  std::vector<double> us;
  std::byte buffer[kToken] = {};
  for (std::size_t i = 0; i < total; ++i) {
    const std::uint64_t t = now_ns();
    push_whole(rings[1], ByteView(buffer, kToken));
    while (rings[0].read_available() < kToken)
      ::sched_yield();
    pop_all(rings[0], buffer, kToken);
    if (i >= warmup) us.push_back(static_cast<double>(now_ns() - t) / 1e3);
  }
  for (const pid_t pid : children)
    reap(pid);
  ::munmap(memory, sizeof(ClientRing) * kProcesses);
  return percentiles(us);
}

// The floor under any ring of processes here: a token (one word per hop, nothing else)
// passed around `processes` processes that poll it and sched_yield, as bench/ring4.c
// mode 1 does. With `one_cpu`, every process is pinned to the parent's first allowed
// CPU, so each hop is a hand-off from one process to another on that CPU: a context
// switch. Two processes on one CPU then measure two switches per round, which is the
// least a round of four processes on two cores can cost (docs/shm.md, "The ring target").
Percentiles latency_token_ring(int processes, bool one_cpu, std::size_t samples) {
  struct alignas(64) Word {
    std::atomic<std::uint32_t> value{0};
  };
  const std::size_t warmup = std::min<std::size_t>(1000, samples / 5);
  const std::size_t total = warmup + samples;
  void* memory = ::mmap(nullptr, sizeof(Word) * processes, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) std::abort();
  auto* words = static_cast<Word*>(memory);
  for (int i = 0; i < processes; ++i)
    new (&words[i]) Word();
  cpu_set_t parent_cpus;
  CPU_ZERO(&parent_cpus);
  if (::sched_getaffinity(0, sizeof parent_cpus, &parent_cpus) != 0) std::abort();
  auto pin = [&] {
    if (!one_cpu) return;
    int cpu = 0;
    while (!CPU_ISSET(cpu, &parent_cpus))
      ++cpu;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0) std::abort();
  };
  auto wait_for = [&](int p, std::uint32_t value) {
    while (words[p].value.load(std::memory_order_acquire) != value)
      ::sched_yield();
  };
  std::vector<pid_t> children;
  for (int p = 1; p < processes; ++p) {
    children.push_back(spawn([&, p] {
      pin();
      for (std::uint32_t i = 1; i <= total; ++i) {
        wait_for(p, i);
        words[(p + 1) % processes].value.store(i, std::memory_order_release);
      }
      return 0;
    }));
  }
  pin();
  std::vector<double> us;
  for (std::uint32_t i = 1; i <= total; ++i) {
    const std::uint64_t t = now_ns();
    words[1].value.store(i, std::memory_order_release);
    wait_for(0, i);
    if (i > warmup) us.push_back(static_cast<double>(now_ns() - t) / 1e3);
  }
  for (const pid_t pid : children)
    reap(pid);
  if (one_cpu && ::sched_setaffinity(0, sizeof parent_cpus, &parent_cpus) != 0) std::abort();
  ::munmap(memory, sizeof(Word) * processes);
  return percentiles(us);
}

// CPU time of an idle replica over `seconds`: it was busy just before (so it passes
// through its yield window once), then nothing arrives.
double idle_cpu_percent(const std::string& cluster, double seconds) {
  auto* shared = shared_new<Samples>();
  const pid_t idle = spawn([&] {
    Segment s = Segment::attach(cluster);
    ReplicaPort r(s, 1);
    struct rusage before {};
    ::getrusage(RUSAGE_SELF, &before);
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
           seconds) {
      r.poll([](Endpoint, std::uint16_t, ByteView) {});
      r.wait(10ms);  // a replica's tick
    }
    struct rusage after {};
    ::getrusage(RUSAGE_SELF, &after);
    auto cpu = [](const struct rusage& u) {
      return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    shared->us[0] = 100.0 * (cpu(after) - cpu(before)) / seconds;
    return 0;
  });
  reap(idle);
  const double percent = shared->us[0];
  shared_delete(shared);
  return percent;
}

struct Throughput {
  double frames_per_s = 0;
  double gb_per_s = 0;  // body bytes
};

// One producer sends `count` messages of `body_bytes`, batching `batch` per flush; the
// consumer (window style) polls. Timed from the first send to the last delivery.
Throughput throughput(const std::string& cluster, std::size_t body_bytes, std::size_t count) {
  auto* shared = shared_new<Samples>();
  const pid_t consumer = spawn([&] {
    Segment s = Segment::attach(cluster);
    ReplicaPort r1(s, 1);
    shared->ready.store(1);
    std::size_t got = 0;
    serve(
        r1, Style::window, [&](Endpoint, std::uint16_t, ByteView) { ++got; },
        [&] { return got >= count; });
    shared->count.store(now_ns());
    return 0;
  });
  while (shared->ready.load() == 0)
    ::usleep(100);
  std::uint64_t start = 0;
  {
    Segment s = Segment::attach(cluster);
    ReplicaPort r0(s, 0);
    const std::vector<std::byte> body(body_bytes, std::byte{0x5a});
    const std::size_t batch = body_bytes <= 64 ? 256 : 16;
    start = now_ns();
    std::size_t sent = 0;
    while (sent < count) {
      for (std::size_t i = 0; i < batch && sent < count; ++i, ++sent) {
        r0.send(Endpoint::replica(1), 1, body);
      }
      r0.flush();
      // Keep the outbox near one ring's worth: the consumer sets the pace.
      while (r0.pending_bytes() > kReplicaRingBytes) {
        ::sched_yield();
        r0.flush();
      }
    }
    while (r0.pending_bytes() > 0) {
      ::sched_yield();
      r0.flush();
    }
  }
  reap(consumer);
  const double seconds = static_cast<double>(shared->count.load() - start) / 1e9;
  shared_delete(shared);
  return Throughput{static_cast<double>(count) / seconds,
                    static_cast<double>(count * body_bytes) / seconds / 1e9};
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shm-bench: latency, idle CPU and throughput of the shm transport"};
  int runs = 3;
  std::size_t samples = 20000;
  std::size_t frames_small = 20'000'000;
  std::size_t frames_large = 1'000'000;
  double idle_seconds = 2.0;
  app.add_option("--runs", runs, "repetitions of every benchmark (medians are reported)");
  app.add_option("--samples", samples, "latency samples per style")->check(CLI::Range(100, 200000));
  app.add_option("--frames-64", frames_small, "messages for the 64-byte throughput run");
  app.add_option("--frames-4k", frames_large, "messages for the 4 KiB throughput run");
  app.add_option("--idle-seconds", idle_seconds, "idle CPU measurement length");
  std::int64_t window_us = g_options.spin_window.count();
  app.add_option("--spin-window-us", window_us, "PortOptions::spin_window");
  app.add_option("--polls-between-yields", g_options.polls_between_yields,
                 "PortOptions::polls_between_yields");
  std::int64_t uncontended_poll_us = g_options.uncontended_poll.count();
  app.add_option("--uncontended-poll-us", uncontended_poll_us,
                 "PortOptions::uncontended_poll (0: always yield between polls)");
  std::string only;
  app.add_option("--only", only, "run one benchmark: latency, ring4, idle, throughput");
  std::string style_filter;
  app.add_option("--style", style_filter,
                 "styles to run: spin, window, futex, bare (ring4 over bare spsc rings) or floor "
                 "(one-word token ring, and two processes on one CPU); all by default");
  CLI11_PARSE(app, argc, argv);
  g_options.spin_window = std::chrono::microseconds(window_us);
  g_options.uncontended_poll = std::chrono::microseconds(uncontended_poll_us);
  auto enabled = [&](const char* what) { return only.empty() || only == what; };

  const std::string cluster = "bench-" + std::to_string(::getpid());
  Segment segment = Segment::create(SegmentConfig{cluster, 3, 1, 0, 0});
  std::printf("machine: nproc %ld, %s\n", ::sysconf(_SC_NPROCESSORS_ONLN), cpu_model().c_str());
  std::printf("segment %s: %.1f MiB\n\n", Segment::object_name(cluster).c_str(),
              static_cast<double>(segment.size_bytes()) / (1 << 20));

  std::map<std::string, std::vector<double>> results;
  const Style styles[] = {Style::spin, Style::window, Style::futex};
  for (int run = 1; run <= runs; ++run) {
    std::printf("run %d\n", run);
    for (const Style style : styles) {
      if (!enabled("latency")) break;
      if (!style_filter.empty() && style_filter != name(style)) continue;
      const Percentiles p = latency_two(cluster, style, samples);
      std::printf("  2 processes, one-way, %-6s  p50 %7.2f us  p99 %7.2f us  p999 %7.2f us\n",
                  name(style), p.p50, p.p99, p.p999);
      const std::string key = std::string("2 processes, one-way, ") + name(style);
      results[key + " p50"].push_back(p.p50);
      results[key + " p99"].push_back(p.p99);
      results[key + " p999"].push_back(p.p999);
    }
    for (const Style style : styles) {
      if (!enabled("ring4")) break;
      if (!style_filter.empty() && style_filter != name(style)) continue;
      const Percentiles p =
          latency_ring4(cluster, style, style == Style::spin ? samples / 10 : samples);
      std::printf("  4-process ring, round, %-6s p50 %7.2f us  p99 %7.2f us  p999 %7.2f us\n",
                  name(style), p.p50, p.p99, p.p999);
      const std::string key = std::string("4-process ring, per round, ") + name(style);
      results[key + " p50"].push_back(p.p50);
      results[key + " p99"].push_back(p.p99);
      results[key + " p999"].push_back(p.p999);
    }
    if (enabled("ring4") && (style_filter.empty() || style_filter == "bare")) {
      const Percentiles p = latency_ring4_bare(samples);
      std::printf(
          "  4-process ring, round, bare spsc rings (reference) p50 %7.2f us  p99 %7.2f us\n",
          p.p50, p.p99);
      results["4-process ring, per round, bare spsc p50"].push_back(p.p50);
    }
    if (enabled("ring4") && (style_filter.empty() || style_filter == "floor")) {
      const Percentiles token = latency_token_ring(4, false, samples);
      std::printf(
          "  4-process ring, round, one-word token (reference) p50 %7.2f us  p99 %7.2f us\n",
          token.p50, token.p99);
      results["4-process ring, per round, one-word token p50"].push_back(token.p50);
      const Percentiles two_switches = latency_token_ring(2, true, samples);
      std::printf(
          "  2 processes on one CPU, round = 2 context switches (a lower bound for a 4-process "
          "round on 2 cores) p50 %7.2f us  p99 %7.2f us\n",
          two_switches.p50, two_switches.p99);
      results["2 processes on one CPU, round (2 switches) p50"].push_back(two_switches.p50);
    }
    if (enabled("idle")) {
      const double idle = idle_cpu_percent(cluster, idle_seconds);
      std::printf("  idle replica CPU: %.3f %%\n", idle);
      results["idle replica CPU %"].push_back(idle);
    }
    for (const std::size_t bytes : {std::size_t{64}, std::size_t{4096}}) {
      if (!enabled("throughput")) break;
      const Throughput t = throughput(cluster, bytes, bytes == 64 ? frames_small : frames_large);
      std::printf("  throughput %4zu-byte bodies: %6.2f M frames/s  %6.2f GB/s\n", bytes,
                  t.frames_per_s / 1e6, t.gb_per_s);
      const std::string key = "throughput " + std::to_string(bytes) + "-byte";
      results[key + " M frames/s"].push_back(t.frames_per_s / 1e6);
      results[key + " GB/s"].push_back(t.gb_per_s);
    }
  }
  std::printf("\nmedians of %d runs\n", runs);
  for (const auto& [key, values] : results) {
    std::printf("  %-45s %9.3f\n", key.c_str(), median(values));
  }
  Segment::remove(cluster);
  return 0;
}
