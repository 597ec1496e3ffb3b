// How `swiftctl irq` shows swiftd's affinity-aware interrupts (ListIrqs):
// whether swiftd pins IRQs at all (--irq_affinity, root), a table of each
// device's completion vectors with the IRQ behind each, the CPU it is
// pinned to, its affinity before and now, and how often it fired there;
// then, per device, how its IRQs were found ("no IRQs" for a software
// device) and why an IRQ was left as is. Pure functions of the message;
// thread-safe.
#ifndef SWIFT_TOOLS_SWIFTCTL_FORMAT_IRQ_H_
#define SWIFT_TOOLS_SWIFTCTL_FORMAT_IRQ_H_

#include <string>

#include "proto/swift.pb.h"

namespace swift::swiftctl {

// FormatIrqs()
//
// `swiftctl irq` as text (see above); a sentence when there are no devices.
std::string FormatIrqs(const v1::ListIrqsResponse& irqs);

}  // namespace swift::swiftctl

#endif  // SWIFT_TOOLS_SWIFTCTL_FORMAT_IRQ_H_
