// storage-bench: what durable replica storage costs on this machine.
//
//   append   Journal::append throughput over the real files, 64-byte and 4-KiB
//            bodies, in sync mode none (no syncs) and batch (ReplicaStorage::sync()
//            after every 1, 8 or 64 appends). Entries are sealed before the clock
//            starts: this measures the storage, not the checksums of the core.
//            "fresh": a newly created (fallocated) log, the ring's first pass;
//            "rewrite": a log whose every block was written before (the ring's later
//            passes; on ext4 the first write of a fallocated block also converts
//            its extent, a metadata change that a sync must commit).
//   sync     the disk's latency for a 4-KiB pwrite + fdatasync; for a one-page
//            mmap write + msync(MS_SYNC) (MmapRegion's path); and for a pwrite of
//            that page + msync (the store into the mapping left out), p50 and p99.
//   open     ReplicaStorage::open (lock, map, Journal::open: every entry's header
//            and body checksum) of a 1-GiB ring filled with 8-KiB entries, with the
//            file in the page cache (warm) and, when this process may drop the page
//            cache, read from the disk (cold).
// Each measurement runs --runs times; the medians are printed last.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "replica/storage/replica_storage.h"

namespace {

using namespace vsr;
using namespace vsr::storage;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kCluster = 1;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

journal::Identity identity() {
  return journal::Identity{kCluster, 0, 3};
}

// A fresh data directory under the bench's root, removed on destruction.
class Scratch {
 public:
  explicit Scratch(const std::filesystem::path& root) {
    static int n = 0;
    path_ = root / ("run-" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~Scratch() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Entries chained from the root, all with the same body, sealed up front.
std::vector<EntryHeader> sealed_headers(std::size_t count, const Bytes& body) {
  std::vector<EntryHeader> headers(count);
  Checksum parent = root_checksum(kCluster);
  for (std::size_t i = 0; i < count; ++i) {
    EntryHeader& h = headers[i];
    h.parent = parent;
    h.cluster = kCluster;
    h.view = ViewNumber(0);
    h.op = OpNumber(i + 1);
    h.seal(body);
    parent = h.checksum;
  }
  return headers;
}

// Writes every byte of the file once and makes it durable (the "rewrite" case).
void write_whole_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string());
  const std::size_t size = std::filesystem::file_size(path);
  const Bytes zeros(1 << 20);
  for (std::size_t at = 0; at < size;) {
    const std::size_t n = std::min(zeros.size(), size - at);
    if (::pwrite(fd, zeros.data(), n, static_cast<off_t>(at)) != ssize_t(n)) {
      throw std::runtime_error("cannot write " + path.string());
    }
    at += n;
  }
  ::fdatasync(fd);
  ::close(fd);
}

struct AppendConfig {
  std::size_t body_bytes;
  SyncMode mode;
  std::size_t batch;  // appends per sync (batch mode)
  bool rewrite;
};

struct AppendResult {
  double entries_per_s = 0;
  double mb_per_s = 0;
  double syncs_per_s = 0;
};

AppendResult bench_append(const std::filesystem::path& root, const AppendConfig& c,
                          double seconds) {
  // Room for every entry a run can append without a checkpoint.
  const std::size_t capacity = c.body_bytes <= 64 ? (1u << 20) : (1u << 16);
  const Bytes body(c.body_bytes, std::byte{0x5a});
  const std::vector<EntryHeader> headers = sealed_headers(capacity, body);
  journal::Geometry geometry;
  geometry.slot_count = capacity + 1;
  geometry.ring_bytes = ((EntryHeader::kEncodedSize + c.body_bytes + 7) / 8 * 8) * (capacity + 1);
  Scratch scratch(root);
  format_new_cluster(scratch.path(), identity(), geometry);
  if (c.rewrite) write_whole_file(replica_dir(scratch.path(), 0) / kLogFile);
  auto storage =
      ReplicaStorage::open(StorageOptions{scratch.path(), identity(), geometry, c.mode}, 1);
  journal::Journal& j = storage->journal();

  std::size_t appended = 0;
  std::size_t syncs = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (appended < capacity) {
    const std::size_t n = std::min(c.mode == SyncMode::batch ? c.batch : 256, capacity - appended);
    for (std::size_t i = 0; i < n; ++i)
      j.append(headers[appended + i], body);
    appended += n;
    if (c.mode == SyncMode::batch) {
      storage->sync();
      ++syncs;
    }
    elapsed = seconds_since(start);
    if (elapsed >= seconds) break;
  }
  AppendResult r;
  r.entries_per_s = appended / elapsed;
  r.mb_per_s = appended * double(c.body_bytes) / elapsed / 1e6;
  r.syncs_per_s = syncs / elapsed;
  return r;
}

struct Latency {
  double p50_us = 0;
  double p99_us = 0;
};

// 4-KiB pwrite + fdatasync at random page offsets of a 16-MiB written file.
Latency bench_fdatasync(const std::filesystem::path& root, double seconds) {
  Scratch scratch(root);
  const auto path = scratch.path() / "sync-probe";
  const std::size_t size = 16 << 20;
  {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ::posix_fallocate(fd, 0, size);
    ::close(fd);
  }
  write_whole_file(path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  Bytes page(4096, std::byte{0x33});
  std::vector<double> samples;
  std::mt19937_64 rng(1);
  const auto start = Clock::now();
  while (seconds_since(start) < seconds || samples.size() < 100) {
    const off_t at = static_cast<off_t>((rng() % (size / 4096)) * 4096);
    const auto t0 = Clock::now();
    if (::pwrite(fd, page.data(), page.size(), at) != 4096 || ::fdatasync(fd) != 0) {
      throw std::runtime_error("pwrite/fdatasync failed");
    }
    samples.push_back(seconds_since(t0) * 1e6);
  }
  ::close(fd);
  return Latency{percentile(samples, 0.5), percentile(samples, 0.99)};
}

// A one-page write into a shared mapping + msync(MS_SYNC): MmapRegion::sync's path.
Latency bench_msync(const std::filesystem::path& root, double seconds) {
  Scratch scratch(root);
  const auto path = scratch.path() / "msync-probe";
  const std::size_t size = 16 << 20;
  auto region = MmapRegion::create(path, size, SyncMode::batch);
  write_whole_file(path);
  const Bytes page(4096, std::byte{0x44});
  std::vector<double> samples;
  std::mt19937_64 rng(2);
  const auto start = Clock::now();
  while (seconds_since(start) < seconds || samples.size() < 100) {
    const std::size_t at = (rng() % (size / 4096)) * 4096;
    const auto t0 = Clock::now();
    region->write(at, page);
    region->sync();
    samples.push_back(seconds_since(t0) * 1e6);
  }
  return Latency{percentile(samples, 0.5), percentile(samples, 0.99)};
}

// The same page written with pwrite (no store into the mapping) and synced with
// msync: separates the cost of the store into a write-protected mapped page from
// the cost of msync itself.
Latency bench_pwrite_msync(const std::filesystem::path& root, double seconds) {
  Scratch scratch(root);
  const auto path = scratch.path() / "pwrite-msync-probe";
  const std::size_t size = 16 << 20;
  auto region = MmapRegion::create(path, size, SyncMode::batch);
  write_whole_file(path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  const Bytes page(4096, std::byte{0x55});
  auto* base = const_cast<std::byte*>(region->bytes().data());
  std::vector<double> samples;
  std::mt19937_64 rng(3);
  const auto start = Clock::now();
  while (seconds_since(start) < seconds || samples.size() < 100) {
    const std::size_t at = (rng() % (size / 4096)) * 4096;
    const auto t0 = Clock::now();
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(at)) != 4096 ||
        ::msync(base + at, 4096, MS_SYNC) != 0) {
      throw std::runtime_error("pwrite/msync failed");
    }
    samples.push_back(seconds_since(t0) * 1e6);
  }
  ::close(fd);
  return Latency{percentile(samples, 0.5), percentile(samples, 0.99)};
}

bool drop_page_cache() {
  ::sync();
  std::ofstream out("/proc/sys/vm/drop_caches");
  out << "1\n";
  out.flush();
  return static_cast<bool>(out);
}

struct OpenResult {
  double warm_s = 0;
  double cold_s = -1;  // -1: could not drop the page cache
  std::uint64_t entries = 0;
  std::uint64_t ring_bytes = 0;
};

OpenResult bench_open(const std::filesystem::path& root, std::uint64_t ring_gib) {
  // 8-KiB entries (header + body) fill the ring exactly; one slot per entry.
  const std::size_t entry_bytes = 8192;
  const Bytes body(entry_bytes - EntryHeader::kEncodedSize, std::byte{0x77});
  journal::Geometry geometry;
  geometry.ring_bytes = ring_gib << 30;
  geometry.slot_count = geometry.ring_bytes / entry_bytes;
  Scratch scratch(root);
  const StorageOptions options{scratch.path(), identity(), geometry, SyncMode::none};
  format_new_cluster(scratch.path(), identity(), geometry);
  OpenResult r;
  r.ring_bytes = geometry.ring_bytes;
  {
    auto storage = ReplicaStorage::open(options, 1);
    journal::Journal& j = storage->journal();
    Checksum parent = root_checksum(kCluster);
    for (std::uint64_t op = 1; j.can_append(body.size()); ++op) {
      EntryHeader h;
      h.parent = parent;
      h.cluster = kCluster;
      h.op = OpNumber(op);
      h.seal(body);
      j.append(h, body);
      parent = h.checksum;
    }
    r.entries = j.log().head().value();
  }
  auto open_once = [&] {
    const auto start = Clock::now();
    auto storage = ReplicaStorage::open(options, 1);
    const double s = seconds_since(start);
    if (storage->opened() != ReplicaStorage::Opened::restart ||
        storage->journal().log().head().value() != r.entries) {
      throw std::runtime_error("the filled log did not reopen whole");
    }
    return s;
  };
  open_once();  // everything in the page cache
  r.warm_s = open_once();
  if (drop_page_cache()) r.cold_s = open_once();
  return r;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "?";
}

std::string filesystem_of(const std::filesystem::path& path) {
  std::ifstream in("/proc/mounts");
  std::string best_mount, best_type, best_device;
  const std::string p = std::filesystem::weakly_canonical(path).string();
  for (std::string device, mount, type, rest;
       in >> device >> mount >> type && std::getline(in, rest);) {
    if (p.rfind(mount, 0) == 0 && mount.size() >= best_mount.size()) {
      best_mount = mount;
      best_type = type;
      best_device = device;
    }
  }
  return best_type + " on " + best_device + " (mounted at " + best_mount + ")";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"storage-bench: append throughput, sync latency and log open time"};
  std::string dir = "/tmp";
  int runs = 3;
  double seconds = 1.0;
  std::uint64_t open_gib = 1;
  std::vector<std::string> only;
  app.add_option("--dir", dir,
                 "where to create the scratch data directory (its file system is measured)");
  app.add_option("--runs", runs, "runs of each measurement (the median is printed)");
  app.add_option("--seconds", seconds, "duration of each append and latency run");
  app.add_option("--open-gib", open_gib, "ring size of the open benchmark, in GiB");
  app.add_option("--only", only, "append, sync, open (default: all)");
  CLI11_PARSE(app, argc, argv);
  auto wanted = [&](const std::string& what) {
    return only.empty() || std::find(only.begin(), only.end(), what) != only.end();
  };
  const std::filesystem::path root =
      std::filesystem::path(dir) / ("vsr-storage-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root);

  std::printf("machine: %u CPUs, %s\nfile system: %s\nruns: %d (medians below)\n\n",
              std::thread::hardware_concurrency(), cpu_model().c_str(), filesystem_of(root).c_str(),
              runs);
  try {
    if (wanted("append")) {
      std::printf("%-8s %-10s %-8s %14s %10s %10s\n", "body", "sync", "log", "entries/s", "MB/s",
                  "syncs/s");
      for (const bool rewrite : {false, true}) {
        for (const std::size_t body : {std::size_t{64}, std::size_t{4096}}) {
          for (const auto& [mode, batch] :
               std::vector<std::pair<SyncMode, std::size_t>>{{SyncMode::none, 0},
                                                             {SyncMode::batch, 1},
                                                             {SyncMode::batch, 8},
                                                             {SyncMode::batch, 64}}) {
            std::vector<double> eps, mbs, sps;
            for (int i = 0; i < runs; ++i) {
              const AppendResult r =
                  bench_append(root, AppendConfig{body, mode, batch, rewrite}, seconds);
              eps.push_back(r.entries_per_s);
              mbs.push_back(r.mb_per_s);
              sps.push_back(r.syncs_per_s);
            }
            const std::string sync =
                mode == SyncMode::none ? "none" : "batch/" + std::to_string(batch);
            std::printf("%-8s %-10s %-8s %14.0f %10.1f %10.0f\n", body == 64 ? "64 B" : "4 KiB",
                        sync.c_str(), rewrite ? "rewrite" : "fresh", median(eps), median(mbs),
                        median(sps));
            std::fflush(stdout);
          }
        }
      }
      std::printf("\n");
    }
    if (wanted("sync")) {
      std::vector<double> p50, p99, m50, m99, w50, w99;
      for (int i = 0; i < runs; ++i) {
        const Latency f = bench_fdatasync(root, seconds);
        const Latency m = bench_msync(root, seconds);
        const Latency w = bench_pwrite_msync(root, seconds);
        p50.push_back(f.p50_us);
        p99.push_back(f.p99_us);
        m50.push_back(m.p50_us);
        m99.push_back(m.p99_us);
        w50.push_back(w.p50_us);
        w99.push_back(w.p99_us);
      }
      std::printf("4 KiB pwrite + fdatasync:      p50 %5.0f us, p99 %5.0f us\n", median(p50),
                  median(p99));
      std::printf("4 KiB mmap write + msync:      p50 %5.0f us, p99 %5.0f us\n", median(m50),
                  median(m99));
      std::printf("4 KiB pwrite + msync (mapped): p50 %5.0f us, p99 %5.0f us\n\n", median(w50),
                  median(w99));
      std::fflush(stdout);
    }
    if (wanted("open")) {
      std::vector<double> warm, cold;
      OpenResult last;
      for (int i = 0; i < runs; ++i) {
        last = bench_open(root, open_gib);
        warm.push_back(last.warm_s);
        if (last.cold_s >= 0) cold.push_back(last.cold_s);
      }
      std::printf("open + validate a %llu-MiB ring of %llu entries: warm %.3f s",
                  static_cast<unsigned long long>(last.ring_bytes >> 20),
                  static_cast<unsigned long long>(last.entries), median(warm));
      if (cold.empty()) {
        std::printf(", cold: not measured (cannot drop the page cache)\n");
      } else {
        std::printf(", cold %.3f s\n", median(cold));
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "storage-bench: %s\n", e.what());
    std::filesystem::remove_all(root);
    return 1;
  }
  std::filesystem::remove_all(root);
  return 0;
}
