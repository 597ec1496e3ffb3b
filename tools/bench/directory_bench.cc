// directory_bench (issue 14): the cluster directory on real etcd at
// cluster scale, on one machine (tools/bench/run directory).
//
// For each etcd (one node, and a three-node cluster on loopback, both up
// at once) and each N simulated swiftds, in rounds that interleave the two:
//   register   N registrants (--register_threads at a time) each grant a
//              lease and put a host record as swiftd does: per-registration
//              latency (p50, p99) and the time to register all N;
//   memory     etcd's resident memory per registered host, and one real
//              swiftd directory (daemon/directory's Directory, its watch
//              and cache) holding all N: its heap per host (mallinfo2);
//   changes    --watchers watch streams, each its own client and
//              connection as swiftds' are; --changes changes, alternately
//              a host gone (its lease revoked) and a service added (its
//              record rewritten), each timed from the call until every
//              watcher saw it (p50, p99 of that "all watchers" time);
//   death      (N = 1000 only) a registrant renewing a 1 s lease every
//              1/3 s stops: time from its last renewal until every watcher
//              saw its record go (the goal: within 2 s).
// Prints one JSON line per measurement, then the summary as the last line.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/directory/directory.h"
#include "daemon/directory/directory_url.h"
#include "daemon/directory/etcd_client.h"
#include "daemon/directory/host_record_json.h"
#include "proto/directory.pb.h"
#include "tests/etcd_server.h"

ABSL_FLAG(std::string, hosts, "100,1000,10000", "simulated swiftds, per run");
ABSL_FLAG(int, rounds, 1, "rounds over both etcds and every N");
ABSL_FLAG(int, watchers, 100, "watch streams that must see each change");
ABSL_FLAG(int, changes, 40, "changes timed per etcd and N");
ABSL_FLAG(int, register_threads, 16, "registrations in flight at once");
ABSL_FLAG(int, deaths, 5, "deaths timed per etcd (at N = 1000)");
ABSL_FLAG(std::string, dir, "/tmp", "where the etcds keep their data");

namespace swift {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(30);
// Long enough that no registrant needs a renewal during a run.
constexpr absl::Duration kLeaseTtl = absl::Seconds(600);

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1,
                                static_cast<size_t>(p / 100.0 * values.size()));
  return values[index];
}

std::string HostName(int i) { return absl::StrCat("host-", i); }

// A record as a swiftd with two RoCE devices and three services writes.
std::string RecordJson(int i, int services_extra = 0) {
  directory::v1::HostRecord record;
  record.set_api_version(1);
  record.set_host(HostName(i));
  record.set_peer_address(absl::StrCat("10.", (i >> 16) & 255, ".",
                                       (i >> 8) & 255, ".", i & 255, ":7471"));
  record.set_link_port(7472);
  record.set_incarnation(0x9e3779b97f4a7c15ULL * (i + 1));
  for (int d = 0; d < 2; ++d) {
    swift::peer::v1::PeerDevice* device = record.add_devices();
    device->set_name(absl::StrCat("mlx5_", d));
    device->set_gid(
        absl::StrCat("::ffff:10.", d, ".", (i >> 8) & 255, ".", i & 255));
    device->set_active_mtu_bytes(4096);
  }
  record.add_services("kv");
  record.add_services(absl::StrCat("shard-", i % 64));
  record.add_services("trainer");
  for (int s = 0; s < services_extra; ++s) {
    record.add_services(absl::StrCat("added-", s));
  }
  record.set_started_unix_ms(1796000000000 + i);
  return HostRecordToJson(record);
}

int64_t RssBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    int64_t kb = 0;
    if (absl::StartsWith(line, "VmRSS:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(
                             absl::StripPrefix(line, "VmRSS:"), "kB")),
                         &kb)) {
      return kb * 1024;
    }
  }
  return 0;
}

// One etcd under test: a single node or a cluster.
struct Etcd {
  std::string name;  // "1node", "3node"
  std::vector<std::unique_ptr<testing::EtcdServer>> members;
  std::vector<std::string> endpoints;
};

// Everything measured for one etcd and one N in one round.
struct Run {
  std::vector<double> register_ms;
  double register_all_ms = 0;
  std::vector<double> register_all_rounds;  // Summed runs: one per round.
  double etcd_bytes_per_host = 0;
  double swiftd_bytes_per_host = 0;
  std::vector<double> change_all_ms;
  std::vector<double> death_all_ms;
};

// Watch streams that report when each has seen an event on a key.
class Watchers {
 public:
  Watchers(const Etcd& etcd, const std::string& prefix, int count,
           int64_t from_revision) {
    for (int i = 0; i < count; ++i) {
      clients_.push_back(std::make_unique<EtcdClient>(etcd.endpoints));
      absl::StatusOr<std::unique_ptr<EtcdClient::Watch>> watch =
          clients_.back()->WatchPrefix(prefix, from_revision);
      if (!watch.ok()) {
        error_ = watch.status().ToString();
        return;
      }
      watches_.push_back(*std::move(watch));
    }
    for (size_t i = 0; i < watches_.size(); ++i) {
      threads_.emplace_back([this, i] { Read(i); });
    }
  }
  ~Watchers() {
    for (auto& watch : watches_) watch->Cancel();
    for (std::thread& thread : threads_) thread.join();
  }
  const std::string& error() const { return error_; }

  // Expects an event on `key`; Wait() returns when every watcher saw one.
  void Expect(const std::string& key) {
    absl::MutexLock lock(&mu_);
    key_ = key;
    seen_ = 0;
  }
  bool Wait(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto all = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return seen_ == watches_.size();
    };
    return mu_.AwaitWithTimeout(absl::Condition(&all), timeout);
  }

 private:
  void Read(size_t i) {
    std::vector<EtcdEvent> events;
    int64_t revision = 0;
    std::string last_key;
    while (watches_[i]->Next(&events, &revision).ok()) {
      absl::MutexLock lock(&mu_);
      for (const EtcdEvent& event : events) {
        if (event.kv.key == key_ && last_key != key_) {
          last_key = key_;
          ++seen_;
        }
      }
    }
  }

  std::vector<std::unique_ptr<EtcdClient>> clients_;
  std::vector<std::unique_ptr<EtcdClient::Watch>> watches_;
  std::vector<std::thread> threads_;
  std::string error_;
  absl::Mutex mu_;
  std::string key_ ABSL_GUARDED_BY(mu_);
  size_t seen_ ABSL_GUARDED_BY(mu_) = 0;
};

// Registers hosts [0, n) under `prefix`; their leases in `leases`.
void Register(const Etcd& etcd, const std::string& prefix, int n, Run* run,
              std::vector<int64_t>* leases) {
  leases->assign(n, 0);
  const int threads = std::max(1, absl::GetFlag(FLAGS_register_threads));
  std::atomic<int> next{0};
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<int> failures{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // Each its own connection, as each swiftd has.
      EtcdClient client(etcd.endpoints);
      for (int i = next++; i < n; i = next++) {
        const std::string value = RecordJson(i);
        const absl::Time begin = absl::Now();
        absl::StatusOr<EtcdClient::Lease> lease =
            client.GrantLease(kLeaseTtl, begin + kCallTimeout);
        if (!lease.ok() || !client
                                .Put(prefix + HostName(i), value, lease->id,
                                     absl::Now() + kCallTimeout)
                                .ok()) {
          ++failures;
          continue;
        }
        latencies[t].push_back(Ms(absl::Now() - begin));
        (*leases)[i] = lease->id;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  run->register_all_ms = Ms(absl::Now() - start);
  for (const auto& part : latencies) {
    run->register_ms.insert(run->register_ms.end(), part.begin(), part.end());
  }
  if (failures > 0) {
    std::fprintf(stderr, "directory_bench: %d registrations failed\n",
                 failures.load());
  }
}

void RevokeAll(const Etcd& etcd, const std::vector<int64_t>& leases) {
  const int threads = std::max(1, absl::GetFlag(FLAGS_register_threads));
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      EtcdClient client(etcd.endpoints);
      for (size_t i = next++; i < leases.size(); i = next++) {
        if (leases[i] != 0) {
          (void)client.RevokeLease(leases[i], absl::Now() + kCallTimeout);
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
}

// One real swiftd directory reading all N hosts: its heap per host.
double DirectoryBytesPerHost(const Etcd& etcd, const std::string& url_prefix,
                             int n) {
  absl::StatusOr<DirectoryUrl> url = ParseDirectoryUrl(
      absl::StrCat("etcd://", absl::StrJoin(etcd.endpoints, ","), url_prefix));
  if (!url.ok()) return -1;
  DirectoryOptions options;
  options.url = *url;
  options.host_name = "bench-self";
  options.ttl = absl::Seconds(60);
  const size_t before = mallinfo2().uordblks;
  {
    Directory directory(
        options,
        [] {
          directory::v1::HostRecord self;
          self.set_host("bench-self");
          self.set_peer_address("10.255.255.254:7471");
          self.set_incarnation(1);
          return self;
        },
        [](const DirectoryChange&) {});
    directory.Start();
    const absl::Time deadline = absl::Now() + absl::Seconds(120);
    while (directory.state().hosts < static_cast<size_t>(n) + 1 &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    // Let the snapshot's transient buffers go.
    absl::SleepFor(absl::Milliseconds(500));
    const size_t held = mallinfo2().uordblks;
    const size_t hosts = directory.state().hosts;
    directory.Stop();
    if (hosts < static_cast<size_t>(n)) return -1;
    return (static_cast<double>(held) - static_cast<double>(before)) / n;
  }
}

// Changes timed until every watcher saw them: a host gone, a service added.
void TimeChanges(const Etcd& etcd, const std::string& prefix, int n,
                 const std::vector<int64_t>& leases, Run* run) {
  EtcdClient client(etcd.endpoints);
  absl::StatusOr<EtcdClient::Snapshot> now =
      client.GetPrefix(prefix + "none/", absl::Now() + kCallTimeout);
  if (!now.ok()) return;
  Watchers watchers(etcd, prefix, absl::GetFlag(FLAGS_watchers),
                    now->revision + 1);
  if (!watchers.error().empty()) {
    std::fprintf(stderr, "directory_bench: watch: %s\n",
                 watchers.error().c_str());
    return;
  }
  const int changes = std::min(absl::GetFlag(FLAGS_changes), n);
  for (int c = 0; c < changes; ++c) {
    // Spread over the hosts; even changes remove one, odd ones add a service.
    const int host = static_cast<int>(static_cast<int64_t>(c) * n / changes);
    const std::string key = prefix + HostName(host);
    watchers.Expect(key);
    const absl::Time begin = absl::Now();
    const absl::Status changed =
        c % 2 == 0 ? client.RevokeLease(leases[host], begin + kCallTimeout)
                   : client
                         .Put(key, RecordJson(host, 1), leases[host],
                              begin + kCallTimeout)
                         .status();
    if (!changed.ok() || !watchers.Wait(absl::Seconds(30))) {
      std::fprintf(stderr, "directory_bench: change %d not seen by all\n", c);
      continue;
    }
    run->change_all_ms.push_back(Ms(absl::Now() - begin));
  }
}

// A registrant that renews a 1 s lease every 1/3 s, then stops: from its
// last renewal until every watcher saw its record go.
void TimeDeaths(const Etcd& etcd, const std::string& prefix, Run* run) {
  EtcdClient client(etcd.endpoints);
  for (int d = 0; d < absl::GetFlag(FLAGS_deaths); ++d) {
    const std::string key = absl::StrCat(prefix, "dying-", d);
    absl::StatusOr<EtcdClient::Lease> lease =
        client.GrantLease(absl::Seconds(1), absl::Now() + kCallTimeout);
    if (!lease.ok()) return;
    absl::StatusOr<int64_t> put =
        client.Put(key, RecordJson(d), lease->id, absl::Now() + kCallTimeout);
    if (!put.ok()) return;
    Watchers watchers(etcd, prefix, absl::GetFlag(FLAGS_watchers), *put + 1);
    watchers.Expect(key);
    absl::Time last_renewal = absl::Now();
    for (int i = 0; i < 3; ++i) {
      absl::SleepFor(absl::Milliseconds(333));
      if (client.KeepAlive(lease->id, absl::Now() + kCallTimeout).ok()) {
        last_renewal = absl::Now();
      }
    }
    // Dead from here on: no more renewals.
    if (!watchers.Wait(absl::Seconds(30))) continue;
    run->death_all_ms.push_back(Ms(absl::Now() - last_renewal));
  }
}

void PrintRun(const std::string& etcd, int n, int round, const Run& run) {
  std::printf(
      "{\"kind\":\"run\",\"etcd\":\"%s\",\"hosts\":%d,\"round\":%d,"
      "\"register_p50_ms\":%.3f,\"register_p99_ms\":%.3f,"
      "\"register_all_ms\":%.1f,\"etcd_bytes_per_host\":%.0f,"
      "\"swiftd_bytes_per_host\":%.0f,\"change_to_all_watchers_p50_ms\":%.3f,"
      "\"change_to_all_watchers_p99_ms\":%.3f,\"changes\":%zu,"
      "\"death_to_all_watchers_ms\":[%s]}\n",
      etcd.c_str(), n, round, Percentile(run.register_ms, 50),
      Percentile(run.register_ms, 99), run.register_all_ms,
      run.etcd_bytes_per_host, run.swiftd_bytes_per_host,
      Percentile(run.change_all_ms, 50), Percentile(run.change_all_ms, 99),
      run.change_all_ms.size(), absl::StrJoin(run.death_all_ms, ",").c_str());
  std::fflush(stdout);
}

int Main() {
  std::vector<int> sizes;
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_hosts), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n <= 0) {
      std::fprintf(stderr, "directory_bench: bad --hosts '%s'\n",
                   std::string(part).c_str());
      return 2;
    }
    sizes.push_back(n);
  }
  std::vector<Etcd> etcds(2);
  etcds[0].name = "1node";
  etcds[1].name = "3node";
  for (Etcd& etcd : etcds) {
    absl::StatusOr<std::vector<std::unique_ptr<testing::EtcdServer>>> members =
        etcd.name == "1node"
            ? testing::EtcdServer::CreateCluster(absl::GetFlag(FLAGS_dir), 1)
            : testing::EtcdServer::CreateCluster(absl::GetFlag(FLAGS_dir), 3);
    if (!members.ok()) {
      std::fprintf(stderr, "directory_bench: etcd %s: %s\n", etcd.name.c_str(),
                   members.status().ToString().c_str());
      return 1;
    }
    etcd.members = *std::move(members);
    for (const auto& member : etcd.members) {
      etcd.endpoints.push_back(member->endpoint());
    }
  }
  // All rounds' samples, by etcd and N.
  std::map<std::pair<std::string, int>, Run> all;
  int prefixes = 0;
  for (int round = 1; round <= absl::GetFlag(FLAGS_rounds); ++round) {
    for (int n : sizes) {
      for (const Etcd& etcd : etcds) {
        const std::string url_prefix = absl::StrCat("/bench", prefixes++);
        const std::string prefix = url_prefix + "/hosts/";
        Run run;
        std::vector<int64_t> leases;
        const int64_t rss_before = RssBytes(etcd.members[0]->pid());
        Register(etcd, prefix, n, &run, &leases);
        run.etcd_bytes_per_host =
            static_cast<double>(RssBytes(etcd.members[0]->pid()) - rss_before) /
            n;
        run.swiftd_bytes_per_host = DirectoryBytesPerHost(etcd, url_prefix, n);
        TimeChanges(etcd, prefix, n, leases, &run);
        if (n == 1000) TimeDeaths(etcd, prefix, &run);
        RevokeAll(etcd, leases);
        PrintRun(etcd.name, n, round, run);
        Run& total = all[{etcd.name, n}];
        total.register_ms.insert(total.register_ms.end(),
                                 run.register_ms.begin(),
                                 run.register_ms.end());
        total.change_all_ms.insert(total.change_all_ms.end(),
                                   run.change_all_ms.begin(),
                                   run.change_all_ms.end());
        total.death_all_ms.insert(total.death_all_ms.end(),
                                  run.death_all_ms.begin(),
                                  run.death_all_ms.end());
        total.register_all_rounds.push_back(run.register_all_ms);
        // Memory: the most any round took (etcd's RSS moves with its
        // garbage collector; only large N say much).
        total.etcd_bytes_per_host =
            std::max(total.etcd_bytes_per_host, run.etcd_bytes_per_host);
        total.swiftd_bytes_per_host =
            std::max(total.swiftd_bytes_per_host, run.swiftd_bytes_per_host);
      }
    }
  }
  // The summary: every etcd and N, the keys on one node.
  std::vector<std::string> fields = {
      absl::StrCat("\"watchers\":", absl::GetFlag(FLAGS_watchers)),
      absl::StrCat("\"rounds\":", absl::GetFlag(FLAGS_rounds))};
  for (const auto& [key, run] : all) {
    const std::string suffix = absl::StrCat("_", key.second, "_", key.first);
    fields.push_back(absl::StrFormat("\"register_p50_ms%s\":%.3f", suffix,
                                     Percentile(run.register_ms, 50)));
    fields.push_back(absl::StrFormat("\"register_p99_ms%s\":%.3f", suffix,
                                     Percentile(run.register_ms, 99)));
    // The median round, and the spread over rounds.
    fields.push_back(absl::StrFormat("\"register_all_ms%s\":%.1f", suffix,
                                     Percentile(run.register_all_rounds, 50)));
    fields.push_back(absl::StrFormat("\"register_all_spread_ms%s\":[%.1f,%.1f]",
                                     suffix,
                                     Percentile(run.register_all_rounds, 0),
                                     Percentile(run.register_all_rounds, 100)));
    fields.push_back(absl::StrFormat("\"change_to_all_watchers_p50_ms%s\":%.3f",
                                     suffix,
                                     Percentile(run.change_all_ms, 50)));
    fields.push_back(absl::StrFormat("\"change_to_all_watchers_p99_ms%s\":%.3f",
                                     suffix,
                                     Percentile(run.change_all_ms, 99)));
    fields.push_back(absl::StrFormat("\"etcd_bytes_per_host%s\":%.0f", suffix,
                                     run.etcd_bytes_per_host));
    fields.push_back(absl::StrFormat("\"swiftd_bytes_per_host%s\":%.0f", suffix,
                                     run.swiftd_bytes_per_host));
    if (!run.death_all_ms.empty()) {
      fields.push_back(
          absl::StrFormat("\"death_to_all_watchers_max_ms_%s\":%.1f", key.first,
                          Percentile(run.death_all_ms, 100)));
      fields.push_back(
          absl::StrFormat("\"death_to_all_watchers_p50_ms_%s\":%.1f", key.first,
                          Percentile(run.death_all_ms, 50)));
    }
  }
  auto one_node = [&](int n) -> const Run* {
    auto found = all.find({"1node", n});
    return found == all.end() ? nullptr : &found->second;
  };
  if (const Run* run = one_node(1000)) {
    fields.push_back(absl::StrFormat("\"register_p50_ms\":%.3f",
                                     Percentile(run->register_ms, 50)));
    fields.push_back(
        absl::StrFormat("\"change_to_all_watchers_p99_ms_1000\":%.3f",
                        Percentile(run->change_all_ms, 99)));
    if (!run->death_all_ms.empty()) {
      const double worst = Percentile(run->death_all_ms, 100);
      fields.push_back(absl::StrFormat("\"goal_death_seen_within_2s\":%s",
                                       worst <= 2000 ? "true" : "false"));
    }
  }
  const int largest = *std::max_element(sizes.begin(), sizes.end());
  if (const Run* run = one_node(largest)) {
    fields.push_back(absl::StrFormat("\"swiftd_bytes_per_host\":%.0f",
                                     run->swiftd_bytes_per_host));
    fields.push_back(absl::StrFormat("\"etcd_bytes_per_host\":%.0f",
                                     run->etcd_bytes_per_host));
    const double mb_10000 = run->swiftd_bytes_per_host * 10000 / 1e6;
    fields.push_back(
        absl::StrFormat("\"swiftd_mb_for_10000_hosts\":%.2f", mb_10000));
    fields.push_back(absl::StrFormat("\"goal_10000_hosts_under_10mb\":%s",
                                     mb_10000 < 10 ? "true" : "false"));
  }
  std::printf("{%s}\n", absl::StrJoin(fields, ",").c_str());
  return 0;
}

}  // namespace
}  // namespace swift

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return swift::Main();
}
