// write_seeds: writes the seed corpora of tests/fuzz's targets.
//
//   bazel run //tests/fuzz:write_seeds -- "$PWD/tests/fuzz/corpus"
//
// Each target gets a few well-formed inputs that reach its deep paths (a
// greeted fast path connection with every call, a SERVICE channel, a
// brokered Connect and Close on the link, a stored registration...) and a
// few near misses; the fuzzer mutates from there. Seeds are built from
// the contracts in proto/, so rerun this when they change. Files that a
// fuzzer found (crash-*, regression-*) live beside the seeds and are not
// touched.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/verbs/endpoint.h"
#include "common/version.h"
#include "google/protobuf/text_format.h"
#include "proto/fast_path.pb.h"
#include "proto/peer.pb.h"
#include "proto/swift.pb.h"
#include "proto/worker.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace swift::fuzz {
namespace {

std::string out_root;

void Write(const std::string& target, const std::string& name,
           const std::string& bytes) {
  const std::string directory = absl::StrCat(out_root, "/", target);
  mkdir(directory.c_str(), 0755);
  const std::string path = absl::StrCat(directory, "/", name);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
  if (!file.good()) {
    fprintf(stderr, "write_seeds: cannot write %s\n", path.c_str());
    exit(1);
  }
}

std::string Frame(const std::string& payload) {
  std::string frame(4, '\0');
  const uint32_t length = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) {
    frame[i] = static_cast<char>(length >> (8 * (3 - i)));
  }
  return frame + payload;
}

verbs::QpEndpoint SampleEndpoint(uint32_t qpn, bool buffer) {
  verbs::QpEndpoint endpoint;
  endpoint.qpn = qpn;
  endpoint.psn = 0x3a2b1c;
  endpoint.gid.raw[10] = 0xff;
  endpoint.gid.raw[11] = 0xff;
  endpoint.gid.raw[12] = 10;
  endpoint.gid.raw[15] = 1;
  endpoint.gid_index = 1;
  endpoint.mtu = IBV_MTU_1024;
  if (buffer) {
    endpoint.buffer = verbs::RemoteBuffer{0x7f0000001000, 4096, 0x1234};
  }
  return endpoint;
}

v1::FastRequest Hello(uint64_t call_id, v1::FastHello::Channel channel,
                      const std::string& function = "") {
  v1::FastRequest request;
  request.set_call_id(call_id);
  v1::FastHello* hello = request.mutable_hello();
  hello->set_api_version(kControlApiVersion);
  hello->set_client_name("seed");
  hello->set_pid(4242);
  hello->set_channel(channel);
  hello->set_function(function);
  return request;
}

v1::RegisterFunctionRequest Registration(const std::string& name) {
  v1::RegisterFunctionRequest function;
  function.mutable_header()->set_api_version(kControlApiVersion);
  function.set_name(name);
  function.set_library_path("/usr/lib/swift/libecho.so");
  function.add_peers()->set_host("10.77.0.2:18515");
  function.mutable_peers(0)->set_service("sink");
  function.set_max_instances(4);
  function.set_idle_timeout_ms(30000);
  function.set_memory_limit_bytes(64 << 20);
  function.set_uid(1000);
  function.set_gid(1000);
  function.set_prepared(2);
  function.set_spare_instances(1);
  return function;
}

void FastPathSeeds() {
  const std::string t = "fast_path_fuzz";
  std::vector<std::string> calls;
  calls.push_back(Hello(1, v1::FastHello::CALLS).SerializeAsString());
  v1::FastRequest ping;
  ping.set_call_id(2);
  ping.mutable_ping()->set_sequence(7);
  calls.push_back(ping.SerializeAsString());
  v1::FastRequest connect;
  connect.set_call_id(3);
  connect.mutable_connect()->set_host("10.77.0.2:18515");
  connect.mutable_connect()->set_service("kv");
  connect.mutable_connect()->set_client_endpoint(
      verbs::EncodeEndpoint(SampleEndpoint(0x11, false)));
  connect.mutable_connect()->set_timeout_ms(1000);
  calls.push_back(connect.SerializeAsString());
  v1::FastRequest close;
  close.set_call_id(4);
  close.mutable_close()->set_connection_id(1);
  calls.push_back(close.SerializeAsString());
  v1::FastRequest invoke;
  invoke.set_call_id(5);
  invoke.mutable_invoke()->set_function("echo");
  invoke.mutable_invoke()->set_payload("hello");
  invoke.mutable_invoke()->set_mode(v1::InvokeRequest::WARM);
  calls.push_back(invoke.SerializeAsString());
  v1::FastRequest registration;
  registration.set_call_id(6);
  *registration.mutable_register_function() = Registration("echo");
  calls.push_back(registration.SerializeAsString());
  v1::FastRequest unregister;
  unregister.set_call_id(7);
  unregister.mutable_unregister_function()->set_name("echo");
  calls.push_back(unregister.SerializeAsString());
  v1::FastRequest services;
  services.set_call_id(8);
  services.mutable_list_services();
  calls.push_back(services.SerializeAsString());
  v1::FastRequest tenants;
  tenants.set_call_id(9);
  tenants.mutable_list_tenants();
  calls.push_back(tenants.SerializeAsString());
  calls.push_back(Hello(10, v1::FastHello::CALLS).SerializeAsString());
  Write(t, "calls", std::string(1, '\0') + JoinMessages(calls));
  // The same with descriptors attached to the hello and the ping.
  Write(t, "calls_with_fds", std::string(1, '\x03') + JoinMessages(calls));

  v1::FastRequest old = Hello(1, v1::FastHello::CALLS);
  old.mutable_hello()->set_api_version(kControlApiVersion + 1);
  Write(t, "hello_wrong_version",
        std::string(1, '\0') + JoinMessages({old.SerializeAsString()}));
  Write(t, "no_hello", std::string(1, '\0') + JoinMessages({calls[1]}));

  v1::ServiceUp listen;
  listen.mutable_listen()->set_service("kv");
  listen.mutable_listen()->add_endpoints(
      verbs::EncodeEndpoint(SampleEndpoint(0x100, true)));
  listen.mutable_listen()->add_endpoints(
      verbs::EncodeEndpoint(SampleEndpoint(0x101, true)));
  v1::ServiceUp more;
  more.mutable_add_endpoints()->add_endpoints(
      verbs::EncodeEndpoint(SampleEndpoint(0x102, true)));
  v1::ServiceUp reply;
  reply.mutable_accept_reply()->set_event_id(1);
  reply.mutable_accept_reply()->set_accept_us(12);
  Write(t, "service_channel",
        std::string(1, '\0') +
            JoinMessages({Hello(1, v1::FastHello::SERVICE).SerializeAsString(),
                          listen.SerializeAsString(), more.SerializeAsString(),
                          reply.SerializeAsString()}));
  Write(t, "function_channel",
        std::string(1, '\0') +
            JoinMessages(
                {Hello(1, v1::FastHello::FUNCTION, "echo").SerializeAsString(),
                 invoke.SerializeAsString()}));
  Write(t, "garbage", std::string("\0\x12\x05hello\\ \xff\xff", 12));
}

void TcpFrameSeeds() {
  const std::string t = "tcp_frame_fuzz";
  peer::v1::LinkRequest request;
  request.mutable_close()->set_api_version(kControlApiVersion);
  request.mutable_close()->set_server_connection_id(3);
  Write(t, "two_frames",
        std::string(1, '\0') + Frame("abc") + Frame("") +
            Frame(request.SerializeAsString()));
  Write(t, "deadlines", std::string(1, '\x01') + Frame("payload"));
  Write(t, "over_limit", std::string(1, '\x00') + Frame(std::string(40, 'x')));
  Write(t, "truncated",
        std::string(1, '\x06') + Frame(std::string(100, 'y')).substr(0, 50));
  Write(t, "host_port", std::string(1, '\x06') + "10.77.0.1:18515");
}

void PeerLinkSeeds() {
  const std::string t = "peer_link_fuzz";
  peer::v1::LinkRequest connect;
  peer::v1::ConnectRequest* call = connect.mutable_connect();
  call->set_api_version(kControlApiVersion);
  call->set_from_incarnation(99);
  call->set_expected_incarnation(4242);  // peer_link_fuzz's incarnation.
  call->set_service("echo");
  call->set_client_endpoint(verbs::EncodeEndpoint(SampleEndpoint(0x11, false)));
  call->set_client_connection_id(5);
  connect.set_timeout_ms(500);
  peer::v1::LinkRequest close;
  close.mutable_close()->set_api_version(kControlApiVersion);
  close.mutable_close()->set_expected_incarnation(4242);
  close.mutable_close()->set_server_connection_id(1);
  Write(t, "connect_close",
        std::string(1, '\0') + JoinMessages({connect.SerializeAsString(),
                                             close.SerializeAsString()}));

  peer::v1::LinkRequest stale = connect;
  stale.mutable_connect()->set_expected_incarnation(1);
  peer::v1::LinkRequest unknown = connect;
  unknown.mutable_connect()->set_service("nope");
  peer::v1::LinkRequest bad_endpoint = connect;
  bad_endpoint.mutable_connect()->set_client_endpoint("SWEP");
  peer::v1::LinkRequest empty;
  Write(t, "refusals",
        std::string(1, '\0') +
            JoinMessages({stale.SerializeAsString(), unknown.SerializeAsString(),
                          bad_endpoint.SerializeAsString(),
                          empty.SerializeAsString()}));
  // The secure link: unsigned (refused), and signed by the target.
  Write(t, "secure_unsigned",
        std::string(1, '\x04') + JoinMessages({connect.SerializeAsString()}));
  Write(t, "secure_signed",
        std::string(1, '\x0c') + JoinMessages({connect.SerializeAsString(),
                                               close.SerializeAsString()}));
  Write(t, "raw_frames",
        std::string(1, '\x02') + Frame(connect.SerializeAsString()) +
            Frame(close.SerializeAsString()) + std::string("\x00\x01\x00", 3));
  Write(t, "raw_garbage", std::string(1, '\x02') + Frame("\xff\xff\xff"));

  peer::v1::HelloRequest hello;
  hello.set_api_version(kControlApiVersion);
  hello.set_incarnation(99);
  hello.set_address("10.77.0.2:18515");
  Write(t, "hello", std::string(1, '\x01') + hello.SerializeAsString());
}

void EndpointSeeds() {
  const std::string t = "endpoint_fuzz";
  Write(t, "full", verbs::EncodeEndpoint(SampleEndpoint(0x11, true)));
  Write(t, "minimal", verbs::EncodeEndpoint(verbs::QpEndpoint()));
  std::string future = verbs::EncodeEndpoint(SampleEndpoint(0x12, false));
  future[4] = 2;  // A version this build does not know.
  Write(t, "future_version", future);
  std::string bad_mtu = verbs::EncodeEndpoint(SampleEndpoint(0x13, false));
  bad_mtu[6] = 9;
  Write(t, "bad_mtu", bad_mtu);
}

void FunctionStoreSeeds() {
  const std::string t = "function_store_fuzz";
  v1::RegisterFunctionRequest function = Registration("echo");
  function.clear_header();
  std::string text;
  google::protobuf::TextFormat::PrintToString(function, &text);
  const std::string banner =
      "# A function registered with swiftd, restored when swiftd starts.\n";
  Write(t, "registration", JoinMessages({"echo", banner + text}));
  v1::RegisterFunctionRequest odd = Registration("a/b..c d");
  odd.clear_header();
  std::string odd_text;
  google::protobuf::TextFormat::PrintToString(odd, &odd_text);
  Write(t, "odd_name", JoinMessages({"a/b..c d", odd_text}));
  Write(t, "not_its_file", JoinMessages({"other", text}));
  Write(t, "temporary_file", JoinMessages({"x", text, "echo.textproto.tmp.abc123"}));
  Write(t, "relative_library",
        JoinMessages({"echo", "name: \"echo\"\nlibrary_path: \"lib.so\"\n"}));
  Write(t, "garbage", JoinMessages({"echo", "name: \"echo\" {{{ \x01"}));
}

void ChannelMessagesSeeds() {
  const std::string t = "channel_messages_fuzz";
  v1::FastRequest fork;
  fork.set_call_id(12);
  fork.mutable_invoke()->set_function("echo");
  fork.mutable_invoke()->set_mode(v1::InvokeRequest::FORK);
  fork.mutable_invoke()->set_payload("echo:1");
  worker::v1::InvokeReply ok;
  ok.set_result("1");
  ok.set_served_by(worker::v1::FORK);
  ok.set_instance_pid(4242);
  ok.set_function_us(5);
  ok.set_worker_us(9);
  ok.set_spare(true);
  v1::FastRequest warm = fork;
  warm.mutable_invoke()->set_mode(v1::InvokeRequest::WARM);
  warm.mutable_invoke()->set_timeout_ms(1500);
  worker::v1::InvokeReply failed;
  failed.set_code(13);
  failed.set_message("the function returned 3");
  Write(t, "fork_then_warm",
        JoinMessages({fork.SerializeAsString(), ok.SerializeAsString(),
                      warm.SerializeAsString(), failed.SerializeAsString()}));
  v1::FastRequest cold = fork;
  cold.mutable_invoke()->set_mode(v1::InvokeRequest::COLD);
  v1::FastRequest ping;
  ping.mutable_ping()->set_sequence(1);
  Write(t, "refused",
        JoinMessages({cold.SerializeAsString(), "", ping.SerializeAsString(),
                      "", "\xff\xff\xff", ""}));
}

}  // namespace
}  // namespace swift::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: write_seeds CORPUS_DIRECTORY (absolute)\n");
    return 2;
  }
  swift::fuzz::out_root = argv[1];
  mkdir(argv[1], 0755);
  swift::fuzz::FastPathSeeds();
  swift::fuzz::TcpFrameSeeds();
  swift::fuzz::PeerLinkSeeds();
  swift::fuzz::EndpointSeeds();
  swift::fuzz::FunctionStoreSeeds();
  swift::fuzz::ChannelMessagesSeeds();
  printf("write_seeds: corpora written under %s\n", argv[1]);
  return 0;
}
