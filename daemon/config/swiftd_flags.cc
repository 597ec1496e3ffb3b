// swiftd's flags (see swiftd_flags.h). Each setting here is also a field of
// config::SwiftdConfig, and `swiftd --help` lists it under the group
// swiftd_help.cc gives it; tests check all three agree.
#include "daemon/config/swiftd_flags.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/fd_limits.h"
#include "common/version.h"

ABSL_FLAG(std::string, config, swift::kDefaultConfigPath,
          "The config file (protobuf text format; the one installed lists "
          "every setting with its default, commented out); flags given on "
          "the command line override it. The default file may be missing; "
          "a file named here may not. Empty: no file. SIGHUP re-reads it.");
ABSL_FLAG(std::string, check_config, "",
          "Validate the config file (this one, or --config's when given "
          "without a value) with the flags on top, print what is wrong with "
          "line and column, and exit: 0 valid, 1 not.");
ABSL_FLAG(int, log_verbosity, -1,
          "Verbose logging level (1: a line per request); -1: GLOG_v from "
          "the environment, 0 when unset. Changes live on SIGHUP.");
ABSL_FLAG(std::string, socket, swift::kDefaultSocketPath,
          "Unix socket the Control API listens on.");
ABSL_FLAG(std::string, socket_mode, "0660",
          "Permission bits (octal) of the socket file: who may connect.");
ABSL_FLAG(std::string, socket_group, "",
          "Group that owns the socket file (e.g. 'swift'); empty keeps "
          "swiftd's own group.");
ABSL_FLAG(std::vector<std::string>, devices, {},
          "Use only these RDMA devices (comma-separated); all when empty.");
ABSL_FLAG(std::string, peer_address, "",
          "Serve the Peer API (brokered connections with other hosts' "
          "swiftds) on this ip:port; empty: no brokering.");
ABSL_FLAG(bool, peer_link, true,
          "Serve the lean TCP peer link beside the gRPC Peer API.");
ABSL_FLAG(std::vector<std::string>, peers, {},
          "Peer names for clients, as name=ip:port (comma-separated).");
ABSL_FLAG(std::string, peer_secret_file, "",
          "The cluster's shared secret: only swiftds holding the same bytes "
          "may broker with this one (Peer API and link). A regular file of "
          "32+ random bytes, owned by swiftd's uid, mode 0600 or 0400; "
          "create it once with 'head -c 32 /dev/urandom > FILE' and copy it "
          "to every host. Required with --peer_address unless "
          "--insecure_peers.");
ABSL_FLAG(bool, insecure_peers, false,
          "Broker with peers WITHOUT authentication (no --peer_secret_file): "
          "for tests and development only; the allow-list still applies.");
ABSL_FLAG(std::vector<std::string>, peer_allow, {},
          "Networks whose swiftds may broker with this one, and the only "
          "hosts a client may make swiftd dial, as CIDRs or addresses "
          "(comma-separated, e.g. 10.77.0.0/24); the hosts of --peers are "
          "always allowed. Loopback is not allowed unless listed.");
ABSL_FLAG(absl::Duration, peer_auth_max_skew, absl::Seconds(30),
          "A peer request stamped further than this from this host's clock "
          "is refused (replay protection; keep the hosts' clocks in sync).");
ABSL_FLAG(std::string, worker_binary, "",
          "The swift_worker binary functions run in; default: swift_worker "
          "beside swiftd (or in worker/ beside it).");
ABSL_FLAG(std::string, state_dir, "/var/lib/swift",
          "Directory (created 0700) where registered functions are kept, so "
          "that swiftd restores them when it restarts; empty: keep them in "
          "memory only.");
// Per-tenant bounds of the function runtime (issue 10): a tenant is the
// uid a function runs as; functions that run as root are exempt from the
// per-tenant ones, not from --max_workers. 0: no limit.
ABSL_FLAG(int, max_functions_per_tenant, 16,
          "Functions one uid may have registered (root exempt); 0: no "
          "limit.");
ABSL_FLAG(int, max_instances_per_tenant, 64,
          "max_instances + spare instances, summed over one uid's functions "
          "(root exempt); 0: no limit.");
ABSL_FLAG(int, max_cold_workers_per_tenant, 4,
          "COLD invocations of one uid's functions running at once, each in "
          "a worker of its own (root exempt); 0: no limit.");
ABSL_FLAG(absl::Duration, cold_template_idle_timeout, absl::Seconds(30),
          "COLD invocations run in a child forked from the tenant's cold "
          "template (one swift_worker --template per uid, gid and memory "
          "limit, started on first use: runtime, device, PD, registered "
          "memory and QPs ready), which is stopped once idle this long; 0: "
          "no templates, every COLD invocation starts a fresh worker.");
ABSL_FLAG(int, max_workers, 256,
          "Function workers in all: one per registered function, plus "
          "registrations being started and COLD invocations; 0: no limit.");
ABSL_FLAG(int, max_handshakes_per_peer, 8,
          "Connection handshakes in flight toward one peer.");
ABSL_FLAG(int, max_handshakes, 32, "Connection handshakes in flight in all.");
ABSL_FLAG(int, max_queued_connects, 4096,
          "Connects waiting for a handshake slot; more are refused.");
// Per-tenant (per-uid) bounds of the broker (issue 10); root is counted,
// not limited. Over a quota, a request fails with RESOURCE_EXHAUSTED
// naming the flag.
ABSL_FLAG(int, max_handshakes_per_tenant, 8,
          "Connection handshakes in flight of one uid (root exempt); more "
          "wait for a slot, so that one tenant cannot take them all.");
ABSL_FLAG(absl::Duration, max_connect_timeout, absl::Seconds(30),
          "The longest a connect may wait (its timeout_ms is clamped).");
ABSL_FLAG(int64_t, max_connections_per_tenant, 4096,
          "Brokered connections one uid may hold (root exempt).");
ABSL_FLAG(int64_t, max_services_per_tenant, 128,
          "Services one uid may listen on at once (root exempt).");
ABSL_FLAG(int64_t, max_pooled_endpoints_per_tenant, 16384,
          "Endpoints (pooled QPs) one uid's services may advertise in all "
          "(root exempt).");
ABSL_FLAG(int64_t, max_pooled_endpoints_per_service, 4096,
          "Endpoints (pooled QPs) one service may advertise.");
ABSL_FLAG(int, max_peer_entries, 256,
          "Peers (other hosts' swiftds) swiftd will know; a connect to a "
          "new host beyond it is refused. Peers in --peers always count as "
          "reachable.");
ABSL_FLAG(absl::Duration, peer_watch_interval, absl::Seconds(1),
          "How often swiftd asks the peers it holds connections with "
          "whether those still stand (a peer's restart, a service that "
          "closed its side); a pre-connected pair is checked against what "
          "it last heard. 0: never.");
ABSL_FLAG(int, max_fast_path_connections, 1024,
          "Fast path connections served at once; more are refused "
          "(RESOURCE_EXHAUSTED). Each costs a thread and a descriptor.");
ABSL_FLAG(int, max_fast_path_connections_per_uid, 256,
          "Fast path connections of one uid at once (root exempt); 0: no "
          "per-uid cap.");
ABSL_FLAG(int, max_peer_link_connections, 256,
          "Peer link connections served at once; more are refused.");
ABSL_FLAG(int, max_attach_streams, 1024,
          "Control API (gRPC) Attach streams open at once, all clients "
          "together; more are refused (RESOURCE_EXHAUSTED).");
ABSL_FLAG(int, grpc_max_streams_per_connection, 100,
          "Concurrent calls per Control API (gRPC) connection; a client's "
          "extra calls wait in the client.");
ABSL_FLAG(absl::Duration, grpc_max_connection_idle, absl::Minutes(5),
          "A Control API (gRPC) connection with no call in progress is "
          "closed after this.");
ABSL_FLAG(int, grpc_memory_quota_mb, 256,
          "Memory the Control API's gRPC server may use; beyond it gRPC "
          "refuses new calls (RESOURCE_EXHAUSTED).");
ABSL_FLAG(int, grpc_max_threads, 64,
          "Threads the Control API's gRPC server may start.");
ABSL_FLAG(int, connection_fd_reserve, swift::kDefaultFdReserve,
          "The fast path and the peer link refuse new connections while "
          "fewer file descriptors than this remain, keeping them for the "
          "Control API and the broker.");
ABSL_FLAG(absl::Duration, hello_timeout, absl::Seconds(10),
          "A fast path or peer link connection that says nothing for this "
          "long after connecting is closed.");
ABSL_FLAG(absl::Duration, fast_path_spin, absl::Microseconds(30),
          "After answering a fast path call, swiftd watches for the "
          "client's next call this long before it sleeps, when the client's "
          "last call came that soon (a burst of calls then costs no "
          "wake-up); never more spinning threads than cores. 0: never.");
ABSL_FLAG(absl::Duration, peer_link_idle_timeout, absl::Seconds(120),
          "An idle peer link connection is closed after this; keep it "
          "longer than peers keep idle connections (60 s).");
// Memory leases (issue 11, daemon/leases): populated memfds handed to
// clients on the fast path. Over a quota, a lease fails with
// RESOURCE_EXHAUSTED naming the flag; root is counted, not limited per
// tenant. 0: no limit.
ABSL_FLAG(int64_t, max_leases_per_tenant, 64,
          "Memory leases one uid may hold at once (root exempt).");
ABSL_FLAG(uint64_t, max_lease_bytes_per_tenant, uint64_t{1} << 30,
          "Bytes of memory leases (and of its pool, populated ahead of "
          "time) one uid may hold (root exempt).");
ABSL_FLAG(uint64_t, max_lease_bytes_total, uint64_t{4} << 30,
          "Bytes of memory leases and pools of all tenants together.");
ABSL_FLAG(uint64_t, lease_pool_region_bytes, uint64_t{4} << 20,
          "Size of each region a tenant's pool populates ahead of time; "
          "leases up to this size come from the pool, larger ones are "
          "populated on demand.");
ABSL_FLAG(int, lease_pool_regions_per_tenant, 2,
          "Regions kept populated per tenant that leases (refilled in the "
          "background); 0: no pools.");
ABSL_FLAG(bool, lease_hugepages, true,
          "Back leases of a huge page or more with huge pages "
          "(MFD_HUGETLB) when the host has them free; normal pages "
          "otherwise (swiftctl leases shows which).");
ABSL_FLAG(absl::Duration, lease_pool_idle_timeout, absl::Minutes(5),
          "A tenant's pool is freed after this long unused while the "
          "tenant holds no leases.");
// Shared device contexts (issue 11, daemon/contexts): opened ahead of time
// and handed to one client each to import, on devices whose provider can
// import (mlx5, efa; never rxe).
ABSL_FLAG(int, shared_contexts_per_device, 2,
          "Device contexts (each with a PD) kept open ahead of time per "
          "device whose provider can import them, for clients to import "
          "instead of opening the device; 0: opened on demand.");
ABSL_FLAG(int64_t, max_shared_contexts_per_tenant, 64,
          "Shared device contexts one uid may hold at once.");
// Metrics (issue 15, daemon/metrics): loopback by default, because they
// name tenants (uids), functions and services; port 7473 is near the peer
// port of the README (7471; 7472 is the benchmarks' rdma_cm port):
// Prometheus' exporter range 9100-9999 is fully allocated, and 9464
// (OpenTelemetry's exporter) may be taken on the same host.
ABSL_FLAG(std::string, metrics_address, "auto",
          "Serve Prometheus metrics (GET /metrics) on this ip:port; an "
          "address swiftd cannot listen on (port in use, not this host's) "
          "stops it from starting. \"auto\": 127.0.0.1:7473, and when that "
          "is taken (a second swiftd on the host) swiftd warns and runs "
          "without metrics. Empty: no metrics.");
// Affinity-aware interrupts (issue 13, daemon/irq): libswift puts a CQ for
// core c on completion vector c % num_comp_vectors (swift/wait.h).
ABSL_FLAG(bool, irq_affinity, true,
          "Pin the interrupt of each RDMA device's completion vector i to "
          "the i-th online CPU (modulo their count), the core whose waiters "
          "libswift puts on vector i, and put the original affinities back "
          "when swiftd stops. Needs root; software devices (rxe) have no "
          "IRQs. swiftctl irq shows what was done.");
// Where swiftd's own threads run (daemon/swiftd_cpus.h says why).
ABSL_FLAG(std::string, cpus, "auto",
          "The CPUs swiftd's own threads run on, as taskset -c writes them "
          "(0-3,8): a connect's hand-offs between them cost least on one "
          "CPU. auto: one, the first swiftd may use; all: wherever the "
          "scheduler puts them. Function workers run on the CPUs swiftd "
          "was started with.");

// The cluster's service directory on etcd (issue 14, daemon/directory).
ABSL_FLAG(std::string, directory, "",
          "The cluster's service directory, "
          "etcd://host:port[,host:port...][/prefix]: swiftd registers this "
          "host (peer address, incarnation, devices, services) under an etcd "
          "lease it keeps alive, and watches every other host's record, so "
          "that clients may name a host without --peers, or only a service. "
          "Needs --peer_address and --peer_allow (the directory's hosts are "
          "dialled only inside the allow-list). Empty: no directory.");
ABSL_FLAG(std::string, host_name, "",
          "This host's name in the directory, which clients connect to. "
          "Empty: the kernel's host name.");
ABSL_FLAG(absl::Duration, directory_ttl, absl::Seconds(2),
          "The time to live of this host's directory lease: when swiftd or "
          "its host dies, the others see it leave within this (etcd may "
          "raise it to its minimum, 1-2 s). A clean stop is seen at once.");
ABSL_FLAG(std::string, directory_ca_file, "",
          "PEM file of the CA that signed the directory's etcd server "
          "certificates: swiftd then speaks TLS to etcd (its https client "
          "URLs). Empty: plain gRPC, for a trusted network only.");
ABSL_FLAG(std::string, directory_cert_file, "",
          "PEM client certificate swiftd presents to etcd (etcd "
          "--client-cert-auth); needs --directory_key_file and "
          "--directory_ca_file.");
ABSL_FLAG(std::string, directory_key_file, "",
          "PEM private key of --directory_cert_file, readable by swiftd's "
          "user only (mode 0600 or 0400).");
