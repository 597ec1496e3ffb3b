// KernelVerbsObjects() implementation; see fault_verbs_counts.h.
#include "tests/fault_verbs_counts.h"

#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/test_swiftd.h"

namespace swift::testing {

VerbsCounts KernelVerbsObjects(std::string* error) {
  // One line per device: "0: rxeA: pd 2 cq 3 qp 5 cm_id 0 mr 1 ctx 2 srq 0".
  const CommandResult shown = RunCommand("rdma resource show");
  VerbsCounts counts;
  if (shown.exit_code != 0) {
    if (error != nullptr) {
      *error = absl::StrCat("rdma resource show failed (exit ", shown.exit_code,
                            "): ", shown.err);
    }
    return counts;
  }
  for (absl::string_view line : absl::StrSplit(shown.out, '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (words.size() < 4 || !absl::EndsWith(words[1], ":")) {
      continue;
    }
    const std::string device(absl::StripSuffix(words[1], ":"));
    for (size_t i = 2; i + 1 < words.size(); i += 2) {
      int value = 0;
      if (!absl::SimpleAtoi(words[i + 1], &value)) {
        counts.clear();
        if (error != nullptr) {
          *error = absl::StrCat("cannot parse '", line, "'");
        }
        return counts;
      }
      counts[absl::StrCat(device, " ", words[i])] = value;
    }
  }
  if (counts.empty() && error != nullptr) {
    *error = absl::StrCat("no device in: ", shown.out);
  }
  return counts;
}

std::string Describe(const VerbsCounts& counts) {
  std::string text;
  std::string device;
  for (const auto& [key, value] : counts) {
    const size_t space = key.find(' ');
    const std::string this_device = key.substr(0, space);
    const std::string type = key.substr(space + 1);
    if (value == 0 && (type == "cm_id" || type == "srq")) {
      continue;
    }
    if (this_device != device) {
      absl::StrAppend(&text, text.empty() ? "" : "; ", this_device);
      device = this_device;
    }
    absl::StrAppend(&text, " ", type, " ", value);
  }
  return text;
}

std::string DescribeDifference(const VerbsCounts& before,
                               const VerbsCounts& after) {
  std::string difference;
  VerbsCounts keys = before;
  keys.insert(after.begin(), after.end());
  for (const auto& [key, unused] : keys) {
    const auto was = before.find(key);
    const auto now = after.find(key);
    const int a = was == before.end() ? 0 : was->second;
    const int b = now == after.end() ? 0 : now->second;
    if (a != b) {
      absl::StrAppend(&difference, difference.empty() ? "" : ", ", key, " ", a,
                      "->", b);
    }
  }
  return difference;
}

std::string KernelQpListing() {
  const CommandResult shown = RunCommand("rdma resource show qp");
  return shown.out + shown.err;
}

}  // namespace swift::testing
