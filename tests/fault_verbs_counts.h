// KernelVerbsObjects(): the kernel's count of verbs objects per RDMA device
// (`rdma resource show`: pd, cq, qp, cm_id, mr, ctx, srq), whoever holds
// them. The fault tests take it before a fault and poll until it is back,
// so that a QP, MR or context left behind by a killed process or by a
// swiftd that forgot it shows up as a difference the test names.
#ifndef SWIFT_TESTS_FAULT_VERBS_COUNTS_H_
#define SWIFT_TESTS_FAULT_VERBS_COUNTS_H_

#include <map>
#include <string>

namespace swift::testing {

// "rxeA qp" -> 7, ... for every device `rdma resource show` lists. Empty
// (and `error`, when given, says why) when the tool cannot be run or its
// output is not understood.
using VerbsCounts = std::map<std::string, int>;
VerbsCounts KernelVerbsObjects(std::string* error = nullptr);

// "rxeA ctx 2 cq 3 mr 1 pd 2 qp 5; rxeB ...": the counts, types without a
// count (cm_id, srq) left out when 0.
std::string Describe(const VerbsCounts& counts);

// "rxeA qp 7->9, rxeB mr 2->1": the entries that differ; empty when equal.
std::string DescribeDifference(const VerbsCounts& before,
                               const VerbsCounts& after);

// The kernel's own QP listing (`rdma resource show qp`), for a failure's
// message: which process holds what.
std::string KernelQpListing();

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FAULT_VERBS_COUNTS_H_
