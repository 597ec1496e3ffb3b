// SessionImpl; see session_impl.h and swift/session.h.
#include "client/session_impl.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/connect_steps.h"
#include "client/connection_impl.h"
#include "client/connection_probe.h"
#include "client/hinted_providers.h"
#include "client/listener_impl.h"
#include "client/rc_qp_factory.h"
#include "client/shared_context.h"
#include "client/swiftd_start.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/unix_socket.h"

namespace swift {
namespace {

// Sessions use their device's port 1.
constexpr uint8_t kPortNum = 1;

std::string NameOrDefault(const std::string& name) {
  return name.empty() ? absl::StrCat("libswift-", getpid()) : name;
}

// Microseconds since `*since`, which moves to now: one step of a sequence.
double Lap(absl::Time* since) {
  const absl::Time now = absl::Now();
  const double us = absl::ToDoubleMicroseconds(now - *since);
  *since = now;
  return us;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> Session::Create(
    const SessionOptions& options) {
  return SessionImpl::Create(options);
}

absl::StatusOr<std::unique_ptr<Session>> SessionImpl::Create(
    const SessionOptions& options) {
  if (options.buffer_bytes == 0 || options.pool_low < 0 ||
      options.pool_high < options.pool_low || options.pool_high < 1) {
    return absl::InvalidArgumentError(
        "SessionOptions: buffer_bytes must be positive and "
        "0 <= pool_low <= pool_high, pool_high >= 1");
  }
  if (options.max_preconnected < 0 ||
      options.preconnect_idle_timeout <= absl::ZeroDuration() ||
      options.preconnect_probe_timeout <= absl::ZeroDuration() ||
      options.recycle_quiet_period < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "SessionOptions: max_preconnected must be at least 0, "
        "preconnect_idle_timeout and preconnect_probe_timeout positive, "
        "recycle_quiet_period at least 0");
  }
  if (options.learn_preconnect_after < 0 || options.learn_preconnect_max < 1 ||
      options.learn_preconnect_window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "SessionOptions: learn_preconnect_after must be at least 0 (0: "
        "off), learn_preconnect_max at least 1, learn_preconnect_window "
        "positive");
  }
  if (options.comp_vector < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("SessionOptions: comp_vector ", options.comp_vector,
                     " (a vector >= 0, or -1 to spread over them)"));
  }
  std::unique_ptr<SessionImpl> session(new SessionImpl());
  session->options_ = options;
  session->options_.client_name = NameOrDefault(options.client_name);
  session->fast_path_socket_ = FastPathSocketPath(options.socket_path);
  // The hints file first (a small read): it says which devices' contexts
  // swiftd shares, which the swiftd half must know before it asks.
  const SessionHints hints =
      options.load_hinted_providers || options.import_context
          ? ReadSessionHints(options.socket_path)
          : SessionHints();
  // The swiftd half (hello, shared context, buffer) runs beside the device
  // half below (swiftd_start.h). Its errors come first: without swiftd the
  // session is of no use whatever the device says.
  SwiftdStart swiftd_start(options, session->options_.client_name,
                           options.import_context ? hints.shareable_devices
                                                  : std::vector<std::string>());
  std::optional<absl::StatusOr<SwiftdStart::Result>> swiftd_done;
  if (!options.overlapped_start) {
    swiftd_done = swiftd_start.Finish();  // The swiftd half first.
  }
  auto finish_swiftd = [&]() {
    return swiftd_done.has_value() ? *std::move(swiftd_done)
                                   : swiftd_start.Finish();
  };
  auto swiftd_error_or = [&](absl::Status device_error) {
    absl::StatusOr<SwiftdStart::Result> swiftd = finish_swiftd();
    return swiftd.ok() ? device_error : swiftd.status();
  };
  StartSteps& steps = session->start_steps_;
  absl::Time lap = absl::Now();
  if (options.load_hinted_providers) {
    const HintedProviders providers = LoadHintedProviders(hints);
    steps.providers_loaded = providers.loaded;
    steps.providers_skipped_because = providers.skipped_because;
  } else {
    steps.providers_skipped_because = "load_hinted_providers is off";
  }
  steps.providers_us = Lap(&lap);

  absl::StatusOr<std::string> device = swiftd_start.Device();
  if (!device.ok()) {
    return swiftd_error_or(device.status());
  }
  steps.device_wait_us = Lap(&lap);
  if (absl::Status opened =
          session->ImportOrOpenDevice(*device, hints, &swiftd_start, &lap);
      !opened.ok()) {
    return swiftd_error_or(opened);
  }
  if (const int vectors = session->context_->get()->num_comp_vectors;
      options.comp_vector >= vectors) {
    return swiftd_error_or(absl::InvalidArgumentError(
        absl::StrCat("comp_vector ", options.comp_vector, ": ", *device,
                     " has ", vectors, " completion vectors (0 to ",
                     vectors - 1, "), or -1 to spread over them")));
  }
  // The QPs need no buffer: they are made while the swiftd half may
  // still be mapping it.
  RcQpFactory::Options qp_options;
  qp_options.capacity.max_send_wr = options.max_send_wr;
  qp_options.capacity.max_recv_wr = options.max_recv_wr;
  qp_options.cq_entries =
      static_cast<int>(options.max_send_wr + options.max_recv_wr);
  qp_options.completion_channel = options.completion_channels;
  qp_options.comp_vector = options.comp_vector;
  QpPool::Options pool_options;
  pool_options.low = options.pool_low;
  pool_options.high = options.pool_high;
  pool_options.quiet_period = options.recycle_quiet_period;
  session->pool_ = std::make_unique<QpPool>(
      std::make_unique<RcQpFactory>(session->pd_, kPortNum, qp_options),
      pool_options);
  if (absl::Status filled = session->pool_->Fill(options.pool_low);
      !filled.ok()) {
    return swiftd_error_or(filled);
  }
  steps.qp_pool_us = Lap(&lap);

  // swiftd's cached address when its hello came first (by now, after the
  // QPs, it usually has): one query of the port and its GID table fewer.
  if (std::optional<verbs::PortAddress> cached =
          swiftd_start.PortAddress(*device);
      cached.has_value() && cached->port_num == kPortNum) {
    session->port_ = *cached;
    steps.port_from_swiftd = true;
  } else {
    absl::StatusOr<verbs::PortAddress> port =
        verbs::QueryPortAddress(*session->context_, kPortNum);
    if (!port.ok()) {
      return swiftd_error_or(port.status());
    }
    session->port_ = *port;
  }
  steps.port_us = Lap(&lap);

  absl::StatusOr<SwiftdStart::Result> swiftd = finish_swiftd();
  if (!swiftd.ok()) {
    return swiftd.status();
  }
  steps.swiftd_wait_us = Lap(&lap);
  session->fast_path_ = std::move(swiftd->fast_path);
  session->buffer_.emplace(*std::move(swiftd->buffer));
  steps.swiftd_us = swiftd->swiftd_us;
  steps.memory_us = swiftd->memory_us;
  steps.buffer_leased = session->buffer_->leased();
  steps.buffer_lease_id = session->buffer_->lease_id();
  steps.buffer_hugepage = session->buffer_->hugepage();
  steps.buffer_not_leased_because = session->buffer_->not_leased_because();
  absl::StatusOr<std::unique_ptr<verbs::Mr>> mr = verbs::Mr::Register(
      session->pd_, session->buffer_->data(), session->buffer_->size(),
      verbs::Mr::kRemoteReadWrite);
  if (!mr.ok()) {
    return mr.status();
  }
  session->mr_ = *std::move(mr);
  steps.reg_mr_us = Lap(&lap);
  session->pool_->StartRefill();
  steps.refill_start_us = Lap(&lap);
  session->preconnect_ = session->MakePreconnectPool();
  if (options.learn_preconnect_after > 0) {
    PrewarmLearner::Options learn;
    learn.after = options.learn_preconnect_after;
    learn.window = options.learn_preconnect_window;
    learn.max_per_service = options.learn_preconnect_max;
    absl::MutexLock lock(&session->learn_mu_);
    session->learner_.emplace(learn);
  }
  return std::unique_ptr<Session>(std::move(session));
}

absl::Status SessionImpl::ImportOrOpenDevice(const std::string& device,
                                             const SessionHints& hints,
                                             SwiftdStart* swiftd_start,
                                             absl::Time* lap) {
  StartSteps& steps = start_steps_;
  if (!options_.import_context) {
    steps.context_not_imported_because = "import_context is off";
  } else if (!hints.CanShare(device)) {
    steps.context_not_imported_because =
        hints.unread_because.empty()
            ? absl::StrCat("swiftd shares no context of ", device,
                           " (its provider cannot import: see swiftctl "
                           "devices)")
            : hints.unread_because;
  } else {
    // swiftd said it shares this device's contexts: its answer is worth
    // the wait (an open here would cost more on the providers that can).
    absl::StatusOr<SharedContextGrant> grant = swiftd_start->SharedContext();
    const double call_us = grant.ok() ? grant->call_us : 0;
    absl::StatusOr<ImportedContext> imported =
        grant.ok() ? ImportSharedContext(*std::move(grant)) : grant.status();
    if (imported.ok()) {
      steps.share_context_us = call_us;
      context_ = std::move(imported->context);
      steps.open_device_us = Lap(lap);
      pd_ = std::move(imported->pd);
      steps.context_imported = true;
      return absl::OkStatus();
    }
    steps.context_not_imported_because = imported.status().ToString();
    SWIFT_LOG_ONCE(Warning, "libswift: opening ", device,
                   " here, not importing swiftd's context: ",
                   steps.context_not_imported_because);
  }
  SWIFT_ASSIGN_OR_RETURN(context_, verbs::Context::OpenByName(device));
  steps.open_device_us = Lap(lap);
  SWIFT_ASSIGN_OR_RETURN(pd_, verbs::Pd::Allocate(context_));
  steps.alloc_pd_us = Lap(lap);
  return absl::OkStatus();
}

verbs::QpEndpoint SessionImpl::EndpointOf(const PooledQp& pooled) const {
  verbs::QpEndpoint endpoint =
      verbs::MakeEndpoint(port_, pooled.qp->qpn(), pooled.psn);
  endpoint.buffer = verbs::RemoteBuffer{reinterpret_cast<uint64_t>(mr_->addr()),
                                        mr_->length(), mr_->rkey()};
  return endpoint;
}

absl::Status SessionImpl::CloseAndRecycle(uint64_t connection_id,
                                          PooledQp pooled) {
  v1::FastRequest request;
  request.mutable_close()->set_connection_id(connection_id);
  // The QP's reset to INIT takes about as long as swiftd's close: done
  // while swiftd works, it costs the close no wake-up. swiftd's answer
  // says only that it heard; the remote side hears later either way, and
  // the QP, closed here, may serve the next connect at once.
  return fast_path_
      ->CallAround(std::move(request),
                   [&] { pool_->Recycle(std::move(pooled)); })
      .status();
}

std::unique_ptr<PreconnectPool> SessionImpl::MakePreconnectPool() {
  PreconnectPool::Options options;
  options.max_pairs = options_.max_preconnected;
  options.idle_timeout = options_.preconnect_idle_timeout;
  PreconnectPool::Hooks hooks;
  hooks.connect = [this](const std::string& host, const std::string& service,
                         absl::Duration timeout) {
    return Handshake(host, service, timeout);
  };
  hooks.check = [this](const std::vector<uint64_t>& ids) {
    return CheckConnections(ids);
  };
  hooks.generation = [this] { return ChangeGeneration(); };
  hooks.post_probe = [](const Connection& pair) { return PostProbe(pair); };
  hooks.await_probe = [probe_timeout = options_.preconnect_probe_timeout](
                          const Connection& pair) {
    return AwaitProbe(pair, probe_timeout);
  };
  return std::make_unique<PreconnectPool>(options, std::move(hooks));
}

std::optional<PreconnectPool::ChangeCount> SessionImpl::ChangeGeneration() {
  absl::MutexLock lock(&watch_mu_);
  if (change_watch_ != nullptr) {
    std::optional<uint64_t> generation = change_watch_->Generation();
    if (generation.has_value()) {
      return PreconnectPool::ChangeCount{watches_, *generation};
    }
    change_watch_.reset();  // swiftd went away: its page counts no more.
    next_watch_attempt_ = absl::Now() + absl::Seconds(1);
    return std::nullopt;
  }
  if (absl::Now() < next_watch_attempt_) {
    return std::nullopt;
  }
  absl::StatusOr<std::unique_ptr<ChangeWatch>> watch =
      ChangeWatch::Open(fast_path_socket_, options_.client_name);
  if (!watch.ok()) {
    next_watch_attempt_ = absl::Now() + absl::Seconds(1);
    SWIFT_LOG_ONCE(Warning, "libswift: swiftd gives no change page (",
                   watch.status().ToString(),
                   "): pre-connected pairs are checked with a call each. "
                   "Logged once per process.");
    return std::nullopt;
  }
  change_watch_ = *std::move(watch);
  ++watches_;
  std::optional<uint64_t> generation = change_watch_->Generation();
  if (!generation.has_value()) {
    return std::nullopt;
  }
  return PreconnectPool::ChangeCount{watches_, *generation};
}

absl::StatusOr<std::vector<std::string>> SessionImpl::CheckConnections(
    const std::vector<uint64_t>& ids) {
  v1::FastRequest request;
  for (const uint64_t id : ids) {
    request.mutable_check_connections()->add_connection_ids(id);
  }
  absl::StatusOr<v1::FastResponse> response = fast_path_->Call(request);
  if (!response.ok()) {
    return response.status();
  }
  const auto& states = response->check_connections().states();
  if (states.size() != static_cast<int>(ids.size())) {
    return absl::InternalError(absl::StrCat("swiftd answered a check of ",
                                            ids.size(), " connections with ",
                                            states.size(), " states"));
  }
  std::vector<std::string> reasons;
  reasons.reserve(ids.size());
  for (const v1::ConnectionState& state : states) {
    reasons.push_back(state.live() ? std::string()
                      : state.reason().empty()
                          ? std::string("swiftd gave no reason")
                          : state.reason());
  }
  return reasons;
}

absl::StatusOr<int> SessionImpl::Prewarm(const std::string& host,
                                         const std::string& service, int count,
                                         absl::Duration timeout) {
  {
    absl::MutexLock lock(&learn_mu_);
    prewarmed_by_app_.insert(absl::StrCat(host, "\n", service));
  }
  return preconnect_->Prewarm(host, service, count, timeout);
}

PreconnectStats SessionImpl::preconnect_stats() const {
  PreconnectStats stats = preconnect_->stats();
  absl::MutexLock lock(&learn_mu_);
  stats.learned = learned_;
  return stats;
}

void SessionImpl::LearnFromHandshake(const std::string& host,
                                     const std::string& service) {
  std::optional<int> target;
  {
    absl::MutexLock lock(&learn_mu_);
    if (!learner_.has_value() ||
        prewarmed_by_app_.contains(absl::StrCat(host, "\n", service))) {
      return;
    }
    target = learner_->Handshaken(host, service, absl::Now());
    if (!target.has_value()) {
      return;
    }
    ++learned_;
  }
  // In the background: the pool's refill thread makes the pairs.
  if (absl::StatusOr<int> set =
          preconnect_->Prewarm(host, service, *target, absl::ZeroDuration());
      !set.ok()) {
    SWIFT_LOG_ONCE(Warning, "libswift: no learned pool for ", service, " on ",
                   host, ": ", set.status().ToString());
  }
}

absl::StatusOr<std::unique_ptr<Connection>> SessionImpl::Connect(
    const std::string& host, const std::string& service,
    absl::Duration timeout) {
  const absl::Time start = absl::Now();
  PreconnectPool::Taken taken = preconnect_->Take(host, service);
  if (taken.connection != nullptr) {
    ConnectSteps steps;
    steps.preconnected = true;
    steps.check_us = taken.check_us;
    steps.probe_us = taken.probe_us;
    steps.pool_take_us =
        std::max(0.0, MicrosSince(start) - taken.check_us - taken.probe_us);
    taken.connection->set_connect_steps(steps);
    return std::unique_ptr<Connection>(std::move(taken.connection));
  }
  // What the pool spent finding none usable counts against the timeout.
  absl::StatusOr<std::unique_ptr<ConnectionImpl>> made = Handshake(
      host, service,
      std::max(timeout - (absl::Now() - start), absl::Milliseconds(1)));
  if (!made.ok()) {
    return made.status();
  }
  LearnFromHandshake(host, service);
  return std::unique_ptr<Connection>(*std::move(made));
}

absl::StatusOr<std::unique_ptr<ConnectionImpl>> SessionImpl::Handshake(
    const std::string& host, const std::string& service,
    absl::Duration timeout) {
  ConnectSteps steps;
  absl::Time step_start = absl::Now();
  absl::StatusOr<PooledQp> pooled = pool_->Take();
  steps.pool_take_us = MicrosSince(step_start);
  if (!pooled.ok()) {
    return pooled.status();
  }
  v1::FastRequest request;
  v1::ConnectCall* call = request.mutable_connect();
  call->set_host(host);
  call->set_service(service);
  call->set_client_endpoint(verbs::EncodeEndpoint(EndpointOf(*pooled)));
  call->set_timeout_ms(static_cast<uint32_t>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout))));
  step_start = absl::Now();
  absl::StatusOr<v1::FastResponse> response = fast_path_->Call(request);
  const double round_trip_us = MicrosSince(step_start);
  if (!response.ok()) {
    // The QP never left INIT: it goes straight back.
    pool_->Return(*std::move(pooled));
    return response.status();
  }
  const uint64_t id = response->connect().connection_id();
  AddRemoteSteps(response->connect(), round_trip_us, steps);
  absl::StatusOr<verbs::QpEndpoint> server =
      verbs::DecodeEndpoint(response->connect().server_endpoint());
  step_start = absl::Now();
  absl::Status connected =
      server.ok() ? ConnectPooledQp(*pooled, port_, *server) : server.status();
  steps.transitions_us = MicrosSince(step_start);
  if (!connected.ok()) {
    (void)CloseAndRecycle(id, *std::move(pooled));
    return connected;
  }
  auto connection = std::make_unique<ConnectionImpl>(
      *std::move(pooled), mr_.get(), *server, id,
      [this, id](PooledQp qp) { return CloseAndRecycle(id, std::move(qp)); });
  connection->set_connect_steps(steps);
  connection->set_host(
      response->connect().host().empty() ? host : response->connect().host());
  return connection;
}

absl::StatusOr<std::unique_ptr<Listener>> SessionImpl::Listen(
    const std::string& service, int backlog) {
  return ListenerImpl::Create(this, fast_path_socket_, options_.client_name,
                              service, backlog);
}

}  // namespace swift
