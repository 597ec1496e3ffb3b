// swiftd: the per-host Swift daemon.
//
// Reads its settings (flags over the config file, daemon/config), opens
// every RDMA device, serves the Control API on a Unix socket, tells
// systemd when it is ready, re-reads its config file on SIGHUP, and shuts
// down cleanly on SIGTERM or SIGINT.
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cpu_set.h"
#include "common/fd_limits.h"
#include "common/log_to_glog.h"
#include "common/status_macros.h"
#include "common/version.h"
#include "daemon/config/config_changes.h"
#include "daemon/config/effective_config.h"
#include "daemon/config/swiftd_flags.h"
#include "daemon/config/swiftd_help.h"
#include "daemon/config/swiftd_options.h"
#include "daemon/swiftd_cpus.h"
#include "daemon/swiftd_server.h"
#include "daemon/systemd_notify.h"
#include "glog/logging.h"

namespace {

// The signals swiftd acts on: SIGTERM and SIGINT stop it, SIGHUP re-reads
// the config file. They are blocked in every thread (gRPC's threads
// inherit the mask) and taken synchronously by one thread, so that both
// run in ordinary code, not in a signal handler.
sigset_t HandledSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  return signals;
}

// Takes the signals from the moment they are blocked, so that a stop
// request is honoured even while start-up is stuck (a state directory on a
// hung file system, a device that does not answer): then the process dies
// of the signal at once, as it would with the default disposition, and
// the next swiftd cleans up whatever socket file is left. Once swiftd
// serves, Wait() hands each signal to the main thread: a stop for a clean
// shutdown, SIGHUP for a reload.
class SignalWaiter {
 public:
  explicit SignalWaiter(sigset_t signals)
      : signals_(signals), thread_([this] { Run(); }) {}
  ~SignalWaiter() { thread_.join(); }

  // Start-up is over: signals from now on go to Wait().
  void Serving() {
    absl::MutexLock lock(&mu_);
    serving_ = true;
  }

  // Blocks until a signal arrives and returns it: a stop signal once one
  // came (it is never lost behind a reload), else SIGHUP.
  int Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &SignalWaiter::HasSignal));
    if (stop_signal_ != 0) return stop_signal_;
    reload_pending_ = false;  // Several SIGHUPs in a row: one reload.
    return SIGHUP;
  }

 private:
  bool HasSignal() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_signal_ != 0 || reload_pending_;
  }

  void Run() {
    for (;;) {
      int signal_number = 0;
      if (sigwait(&signals_, &signal_number) != 0) continue;
      absl::MutexLock lock(&mu_);
      if (signal_number == SIGHUP) {
        if (serving_) {
          reload_pending_ = true;
        } else {
          LOG(WARNING) << "Received SIGHUP while starting: ignored (the "
                          "config is being read now)";
        }
        continue;
      }
      if (!serving_) {
        LOG(WARNING) << "Received " << strsignal(signal_number)
                     << " while starting; stopping now";
        google::FlushLogFiles(google::INFO);
        signal(signal_number, SIG_DFL);
        pthread_sigmask(SIG_UNBLOCK, &signals_, nullptr);
        raise(signal_number);
        _exit(128 + signal_number);  // Not reached: the signal kills us.
      }
      stop_signal_ = signal_number;
      return;
    }
  }

  const sigset_t signals_;
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  int stop_signal_ ABSL_GUARDED_BY(mu_) = 0;
  bool reload_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// swift_worker beside this binary (installed), or in worker/ beside it (a
// Bazel tree); empty when neither exists.
std::string DefaultWorkerBinary() {
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) {
    return "";
  }
  std::string directory(self, length);
  directory.resize(directory.rfind('/'));
  for (const char* candidate : {"/swift_worker", "/worker/swift_worker"}) {
    const std::string path = directory + candidate;
    if (access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return "";
}

void Notify(const std::string& state) {
  if (absl::Status status = swift::NotifySystemd(state); !status.ok()) {
    LOG(WARNING) << "Cannot notify systemd: " << status;
  }
}

// --check_config without a value means "the --config file": absl wants a
// value for a string flag, so give it the marker.
std::vector<char*> WithCheckConfigValue(int argc, char** argv) {
  static char marker[] = "--check_config=-";
  std::vector<char*> args(argv, argv + argc);
  for (char*& arg : args) {
    if (strcmp(arg, "--check_config") == 0 ||
        strcmp(arg, "-check_config") == 0) {
      arg = marker;
    }
  }
  return args;
}

bool AskedForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-help" || arg == "-h" ||
        arg == "--helpshort" || arg == "-helpshort") {
      return true;
    }
  }
  return false;
}

// The config file to read and whether it must exist: one named with
// --config must; the default one may be missing.
struct ConfigSource {
  std::string path;
  bool required = false;
};

ConfigSource ConfigToRead() {
  return {absl::GetFlag(FLAGS_config), swift::GivenOnCommandLine("config")};
}

// The settings and the options made of them, or every error in them.
struct Settings {
  swift::EffectiveConfig config;
  swift::SwiftdOptions options;
};

absl::StatusOr<Settings> ReadSettings(const ConfigSource& source) {
  absl::StatusOr<swift::EffectiveConfig> config =
      swift::LoadEffectiveConfig(source.path, source.required);
  if (!config.ok()) return config.status();
  absl::StatusOr<swift::SwiftdOptions> options =
      swift::SwiftdOptionsFromConfig(*config);
  if (!options.ok()) return options.status();
  return Settings{*std::move(config), *std::move(options)};
}

// --check_config: 0 when the file (with the flags on top) is valid.
int CheckConfig(const std::string& path) {
  absl::StatusOr<Settings> settings = ReadSettings({path, true});
  if (!settings.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(settings.status().message()).c_str());
    return 1;
  }
  std::printf("%s: valid\n", path.c_str());
  return 0;
}

// glog's level as GLOG_v set it, for --log_verbosity=-1.
int g_environment_verbosity = 0;

void ApplyLogVerbosity(int level) {
  FLAGS_v = level >= 0 ? level : g_environment_verbosity;
}

// SIGHUP: re-reads the config file; applies the live settings of a valid
// one, logs what changed and what waits for a restart; keeps everything
// as it is when the new file is not valid. Returns the settings that now
// run.
swift::EffectiveConfig Reload(const ConfigSource& source,
                              const swift::EffectiveConfig& running,
                              swift::SwiftdServer& swiftd) {
  LOG(INFO) << "SIGHUP: re-reading the config file "
            << (source.path.empty() ? "(none: --config is empty)"
                                    : source.path);
  Notify("RELOADING=1");
  absl::StatusOr<Settings> next = ReadSettings(source);
  if (!next.ok()) {
    LOG(ERROR) << "SIGHUP: the new config is not valid; keeping the running "
                  "one:\n"
               << next.status().message();
    Notify(
        "READY=1\nSTATUS=Serving; the last reload was refused (see the "
        "log)");
    return running;
  }
  const std::vector<swift::ConfigChange> changes =
      swift::DiffConfigs(running.config, next->config.config);
  for (const swift::ConfigChange& change : changes) {
    if (change.live) {
      LOG(INFO) << "SIGHUP: " << change.setting << " " << change.before
                << " -> " << change.after << " (applied)";
    } else {
      LOG(WARNING) << "SIGHUP: " << change.setting << " " << change.before
                   << " -> " << change.after << " needs a restart; still "
                   << change.before;
    }
  }
  if (changes.empty()) LOG(INFO) << "SIGHUP: no setting changed";
  swiftd.ApplyLiveOptions(next->options);
  ApplyLogVerbosity(next->config.config.log_verbosity());
  Notify("READY=1\nSTATUS=Serving; config reloaded");
  swift::EffectiveConfig now = next->config;
  now.config = swift::RunningAfterReload(running.config, next->config.config);
  return now;
}

// --cpus: confines the calling thread, and so every thread swiftd starts
// after it, to swiftd's CPUs; the workers get the CPUs it was started
// with back.
absl::Status TakeSwiftdCpus(swift::SwiftdOptions& options) {
  SWIFT_ASSIGN_OR_RETURN(const swift::CpuSet allowed,
                         swift::CpuSet::OfThisThread());
  SWIFT_ASSIGN_OR_RETURN(const std::optional<swift::CpuSet> chosen,
                         swift::ChooseSwiftdCpus(options.cpus, allowed));
  if (!chosen.has_value()) {
    LOG(INFO) << "swiftd's threads run on any of CPUs " << allowed.ToString()
              << " (--cpus=all)";
    return absl::OkStatus();
  }
  SWIFT_RETURN_IF_ERROR(chosen->ApplyToThisThread());
  options.worker_cpus = allowed;
  LOG(INFO) << "swiftd's threads run on CPU"
            << (chosen->Count() == 1 ? " " : "s ") << chosen->ToString()
            << " (--cpus); function workers on CPUs " << allowed.ToString();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (AskedForHelp(argc, argv)) {
    std::fputs(swift::SwiftdHelp().c_str(), stdout);
    return 0;
  }
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] {
    return absl::StrCat("swiftd ", swift::kSwiftVersion, " (Control API v",
                        swift::kControlApiVersion, ")\n");
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::SetProgramUsageMessage(
      "swiftd: the Swift RDMA control-plane daemon (swiftd --help lists its "
      "settings).");
  std::vector<char*> args = WithCheckConfigValue(argc, argv);
  const std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() > 1) {
    std::fprintf(stderr,
                 "swiftd takes no arguments, got '%s' (settings are "
                 "--NAME=VALUE; a config file to check is "
                 "--check_config=FILE)\n",
                 positional[1]);
    return 2;
  }
  if (std::getenv("GLOG_log_dir") == nullptr) {
    FLAGS_logtostderr = true;  // systemd's journal collects stderr.
  }
  google::InitGoogleLogging(argv[0]);
  swift::RouteSwiftLogToGlog();  // common/'s messages (SWIFT_LOG) too.
  // Debian's abseil is built without NDEBUG, so every absl::Mutex would
  // keep a lock-order graph (deadlock detection: a global lock and a hash
  // lookup per Lock, 1.5% of swiftd's perf samples while it brokers
  // connects). The tests keep it; the daemon does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  g_environment_verbosity = FLAGS_v;

  if (const std::string check = absl::GetFlag(FLAGS_check_config);
      !check.empty()) {
    return CheckConfig(check == swift::kCheckTheConfigFlagFile
                           ? absl::GetFlag(FLAGS_config)
                           : check);
  }
  const ConfigSource config_source = ConfigToRead();
  absl::StatusOr<Settings> settings = ReadSettings(config_source);
  if (!settings.ok()) {
    LOG(ERROR) << "swiftd cannot start: its settings are not valid:\n"
               << settings.status().message();
    return 2;
  }
  ApplyLogVerbosity(settings->config.config.log_verbosity());
  swift::SwiftdOptions& options = settings->options;
  if (options.worker_binary.empty()) {
    options.worker_binary = DefaultWorkerBinary();
  }

  const sigset_t signals = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  LOG(INFO) << "swiftd " << swift::kSwiftVersion << " starting (Control API v"
            << swift::kControlApiVersion << "), config file "
            << (settings->config.file.empty() ? "none" : settings->config.file);
  // The descriptor reserve only helps if the limit is as high as allowed.
  if (absl::StatusOr<uint64_t> fds = swift::RaiseFdSoftLimit(); fds.ok()) {
    LOG(INFO) << "File descriptor limit: " << *fds;
  } else {
    LOG(WARNING) << "Cannot raise the file descriptor limit: " << fds.status();
  }
  // Before any thread starts: they inherit this one's CPUs.
  if (absl::Status cpus = TakeSwiftdCpus(options); !cpus.ok()) {
    LOG(ERROR) << "swiftd cannot start: " << cpus.message();
    return 2;
  }
  SignalWaiter waiter(signals);
  absl::StatusOr<std::unique_ptr<swift::SwiftdServer>> swiftd =
      swift::SwiftdServer::Start(options);
  if (!swiftd.ok()) {
    LOG(ERROR) << "swiftd cannot start: " << swiftd.status();
    Notify(absl::StrCat("STATUS=Failed to start: ", swiftd.status().message()));
    _exit(1);  // The signal waiter thread still waits: do not join it.
  }
  waiter.Serving();
  Notify(absl::StrCat("READY=1\nSTATUS=Serving on ", options.socket_path,
                      " with ", (*swiftd)->devices().open_count(),
                      " RDMA device(s)\nMAINPID=", getpid()));

  swift::EffectiveConfig running = settings->config;
  int signal_number = 0;
  while ((signal_number = waiter.Wait()) == SIGHUP) {
    running = Reload(config_source, running, **swiftd);
  }
  LOG(INFO) << "Received " << strsignal(signal_number) << "; shutting down";
  Notify("STOPPING=1");
  (*swiftd)->Shutdown(absl::Seconds(2));
  swiftd->reset();
  LOG(INFO) << "swiftd stopped";
  return 0;
}
