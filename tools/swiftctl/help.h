// `swiftctl --help`: the usage (each command on one line) and every flag
// swiftctl defines with its default and meaning, grouped by the command
// that reads it. Built from absl's flag registry, so a new flag in
// tools/swiftctl/ is listed without being named here; a flag whose help
// text starts with "<command>: " is grouped under that command, any other
// flag is general. The layout suits help2man (swiftctl(8) is generated from
// it): a "Usage:" line, then option lines "  --flag=DEFAULT  meaning".
//
// Thread-safe once flags are registered (after main() starts).
#ifndef SWIFT_TOOLS_SWIFTCTL_HELP_H_
#define SWIFT_TOOLS_SWIFTCTL_HELP_H_

#include <string>

namespace swift::swiftctl {

// UsageText(): the "Usage:" line and the commands, for usage errors.
std::string UsageText();

// HelpText(): UsageText(), then swiftctl's flags by group, then the exit
// statuses; no absl flags, nothing else.
std::string HelpText();

// WantsHelp()
//
// Whether the command line asks for HelpText() with a flag absl does not
// answer the way swiftctl wants: -h, --help, --helpshort (one or two
// dashes, before a "--"). `swiftctl help` is a command, seen after parsing;
// --helpfull stays absl's (every flag of every library).
bool WantsHelp(int argc, char** argv);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_HELP_H_
