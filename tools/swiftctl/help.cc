// swiftctl's help text; see help.h.
#include "tools/swiftctl/help.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace swift::swiftctl {
namespace {

struct Command {
  const char* synopsis;
  const char* description;
};

// One line each; the order is the help's.
constexpr Command kCommands[] = {
    {"status", "is swiftd alive: version, uptime, pid, devices, clients"},
    {"devices", "RDMA devices: state, provider, ports, GIDs, capabilities"},
    {"irq", "completion vectors' IRQs and the CPUs swiftd pinned them to"},
    {"peers", "other hosts' swiftds and the metadata cached about them"},
    {"directory", "the cluster directory (--directory): hosts and services"},
    {"services", "services here with their QP pools; the directory's hosts"},
    {"pools", "ready QPs per service and the handshake admission state"},
    {"connections", "connections brokered for local clients"},
    {"tenants", "each tenant's (uid's) use against its quotas"},
    {"workers", "registered functions, their workers and instances"},
    {"register NAME", "start function NAME's worker (needs --library)"},
    {"unregister NAME", "stop function NAME's worker and forget it"},
    {"invoke NAME", "run function NAME and print its result"},
    {"leases", "memory leases: holders, sizes, totals, pools, quotas"},
    {"clients", "attached fast path clients and the leases they hold"},
    {"top", "live view: rates, latencies, pools, handshakes, clients"},
    {"version", "swiftctl's version and the Control API version it speaks"},
    {"help", "this text (also -h, --help)"},
};

constexpr size_t kLineWidth = 80;
// Where descriptions start, in the command and the flag lists.
constexpr size_t kCommandColumn = 20;
constexpr size_t kFlagColumn = 26;

// `text` cut into lines of at most kLineWidth at spaces, each after
// `indent` blanks; the first line's indent is the caller's.
std::string Wrap(absl::string_view text, size_t indent) {
  std::string out;
  size_t column = indent;
  bool line_empty = true;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line_empty && column + 1 + word.size() > kLineWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++column;
    }
    absl::StrAppend(&out, word);
    column += word.size();
    line_empty = false;
  }
  return out + "\n";
}

// "  --name=DEFAULT" then the meaning, on the same line when it fits.
std::string FlagEntry(const absl::CommandLineFlag& flag,
                      absl::string_view meaning) {
  std::string value = flag.DefaultValue();
  std::string entry =
      absl::StrCat("  --", flag.Name(), "=", value.empty() ? "\"\"" : value);
  if (entry.size() + 2 <= kFlagColumn) {
    entry.resize(kFlagColumn, ' ');
  } else {
    absl::StrAppend(&entry, "\n", std::string(kFlagColumn, ' '));
  }
  return entry + Wrap(meaning, kFlagColumn);
}

// The command a flag belongs to ("" for general) and its meaning without
// the "<command>: " prefix.
std::pair<std::string, std::string> GroupOf(const std::string& help) {
  for (const Command& command : kCommands) {
    const std::string name(
        absl::string_view(command.synopsis)
            .substr(0, absl::string_view(command.synopsis).find(' ')));
    const std::string prefix = name + ": ";
    if (absl::StartsWith(help, prefix)) {
      return {name, help.substr(prefix.size())};
    }
  }
  return {"", help};
}

}  // namespace

std::string UsageText() {
  std::string out =
      "Usage: swiftctl [OPTION]... COMMAND [NAME]\n"
      "Inspect and manage swiftd, the Swift RDMA daemon, on this host.\n"
      "\n"
      "Commands:\n";
  for (const Command& command : kCommands) {
    std::string line = absl::StrCat("  ", command.synopsis);
    line.resize(std::max(kCommandColumn, line.size() + 2), ' ');
    absl::StrAppend(&out, line, command.description, "\n");
  }
  absl::StrAppend(
      &out,
      "\nA user other than root sees only its own services, pools,\n"
      "connections, tenants, workers, leases and clients.\n");
  return out;
}

std::string HelpText() {
  // group -> (flag name -> entry); names sort the entries.
  std::map<std::string, std::map<std::string, std::string>> groups;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->IsRetired() ||
        !absl::StrContains(flag->Filename(), "tools/swiftctl/")) {
      continue;
    }
    auto [group, meaning] = GroupOf(flag->Help());
    groups[group][std::string(name)] = FlagEntry(*flag, meaning);
  }
  std::string out = UsageText();
  auto append_group = [&out, &groups](const std::string& group,
                                      const std::string& title) {
    auto it = groups.find(group);
    if (it == groups.end()) {
      return;
    }
    absl::StrAppend(&out, "\n", title, ":\n");
    for (const auto& [name, entry] : it->second) {
      out += entry;
    }
  };
  append_group("", "General options");
  for (const Command& command : kCommands) {
    const absl::string_view synopsis(command.synopsis);
    const std::string name(synopsis.substr(0, synopsis.find(' ')));
    append_group(name, absl::StrCat("Options of ", name));
  }
  absl::StrAppend(
      &out,
      "\nExit status: 0 on success, 1 when swiftd is unreachable or "
      "a call failed,\n2 on a usage error.\n");
  return out;
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view argument = argv[i];
    if (argument == "--") {
      return false;
    }
    for (absl::string_view flag : {"h", "help", "helpshort"}) {
      if (argument == absl::StrCat("-", flag) ||
          argument == absl::StrCat("--", flag)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace swift::swiftctl
