// `swiftctl devices`; see format_devices.h.
#include "tools/swiftctl/format_devices.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/swiftctl/format.h"

namespace swift::swiftctl {
namespace {

std::string YesNo(bool yes) { return yes ? "yes" : "no"; }

// The library's file name: the directory is the same for every provider.
std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string FormatDevices(const v1::ListDevicesResponse& response) {
  if (response.devices().empty()) {
    return "No RDMA devices. (Soft-RoCE: 'rdma link add rxe0 type rxe "
           "netdev IFACE'; swiftd notices it.)\n";
  }
  std::vector<std::vector<std::string>> device_rows;
  std::vector<std::vector<std::string>> port_rows;
  std::vector<std::vector<std::string>> gid_rows;
  std::string reasons;
  std::string errors;
  for (const v1::Device& device : response.devices()) {
    const std::string state =
        !device.state().empty() ? device.state()
                                : (device.error().empty() ? "open" : "failed");
    if (state == "failed") {
      absl::StrAppend(&errors, device.name(),
                      ": cannot be used: ", device.error(), "\n");
      continue;
    }
    if (state == "removed") {
      absl::StrAppend(&errors, device.name(), ": removed: ", device.error(),
                      "\n");
    }
    const v1::Capabilities& caps = device.capabilities();
    device_rows.push_back(
        {device.name(), state, device.driver().empty() ? "-" : device.driver(),
         device.provider_library().empty()
             ? "-"
             : Basename(device.provider_library()),
         device.uverbs_device().empty() ? "-" : device.uverbs_device(),
         absl::StrCat(device.num_comp_vectors()),
         absl::StrCat(caps.irq_count()), YesNo(caps.context_import()),
         YesNo(caps.fork_child_post()), device.atomic_cap(),
         absl::StrCat(device.max_qp()), absl::StrCat(device.max_cq()),
         absl::StrCat(device.max_mr()), absl::StrCat(device.open_time_us())});
    for (const auto& [what, supported, detail] :
         {std::make_tuple("import", caps.context_import(),
                          caps.context_import_detail()),
          std::make_tuple("fork child post", caps.fork_child_post(),
                          caps.fork_child_post_detail()),
          std::make_tuple("hardware IRQs", caps.hardware_irqs(),
                          caps.hardware_irqs_detail())}) {
      if (!supported && !detail.empty()) {
        absl::StrAppend(&reasons, device.name(), ": ", what, ": no: ", detail,
                        "\n");
      }
    }
    for (const v1::Port& port : device.ports()) {
      port_rows.push_back(
          {device.name(), absl::StrCat(port.port_num()), port.state(),
           absl::StrCat(port.active_mtu_bytes(), "/", port.max_mtu_bytes()),
           port.link_layer(), port.phys_state(),
           absl::StrCat(port.speed(), port.width().empty() ? "" : " ",
                        port.width()),
           absl::StrCat(port.lid()), device.node_guid(),
           device.last_event().empty() ? "-" : device.last_event()});
      for (const v1::Gid& gid : port.gids()) {
        gid_rows.push_back({device.name(), absl::StrCat(port.port_num()),
                            absl::StrCat(gid.index()), gid.type(), gid.gid(),
                            gid.netdev().empty() ? "-" : gid.netdev()});
      }
    }
  }
  std::string out;
  if (!port_rows.empty()) {
    out = FormatTable({"DEVICE", "PORT", "STATE", "MTU", "LINK", "PHYS",
                       "SPEED", "LID", "NODE GUID", "LAST EVENT"},
                      port_rows);
  }
  if (!device_rows.empty()) {
    absl::StrAppend(
        &out, out.empty() ? "" : "\n",
        FormatTable({"DEVICE", "STATE", "DRIVER", "PROVIDER", "UVERBS",
                     "VECTORS", "IRQS", "IMPORT", "FORK POST", "ATOMIC",
                     "MAX QP", "MAX CQ", "MAX MR", "OPEN US"},
                    device_rows));
  }
  if (!gid_rows.empty()) {
    absl::StrAppend(
        &out, "\n",
        FormatTable({"DEVICE", "PORT", "GID", "TYPE", "ADDRESS", "NETDEV"},
                    gid_rows));
  }
  if (!reasons.empty()) {
    absl::StrAppend(&out, "\n", reasons);
  }
  if (!errors.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : "\n", errors);
  }
  if (response.generation() != 0) {
    absl::StrAppend(&out, "\ngeneration ", response.generation(), "\n");
  }
  return out;
}

}  // namespace swift::swiftctl
