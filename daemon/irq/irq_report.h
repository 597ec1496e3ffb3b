// The ListIrqs answer (proto/swift.proto) from IrqAffinity's report: what
// `swiftctl irq` prints. Pure; thread-safe.
#ifndef SWIFT_DAEMON_IRQ_IRQ_REPORT_H_
#define SWIFT_DAEMON_IRQ_IRQ_REPORT_H_

#include "daemon/irq/irq_affinity.h"
#include "proto/swift.pb.h"

namespace swift {

// ListIrqsFromReport()
//
// `report` field by field as a ListIrqsResponse.
v1::ListIrqsResponse ListIrqsFromReport(const IrqReport& report);

}  // namespace swift

#endif  // SWIFT_DAEMON_IRQ_IRQ_REPORT_H_
