// DiffConfigs(); see config_changes.h.
#include "daemon/config/config_changes.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"

namespace swift {
namespace {

using google::protobuf::FieldDescriptor;

std::string FieldText(const config::SwiftdConfig& config,
                      const FieldDescriptor* field) {
  const google::protobuf::Reflection* reflection = config.GetReflection();
  google::protobuf::TextFormat::Printer printer;
  std::vector<std::string> values;
  const int count =
      field->is_repeated() ? reflection->FieldSize(config, field) : 1;
  for (int i = 0; i < count; ++i) {
    std::string value;
    printer.PrintFieldValueToString(config, field,
                                    field->is_repeated() ? i : -1, &value);
    values.push_back(std::move(value));
  }
  return absl::StrJoin(values, ",");
}

}  // namespace

bool IsLiveSetting(absl::string_view setting) {
  static const auto* const kLive = new absl::flat_hash_set<absl::string_view>{
      "log_verbosity",
      // Peers' names and who may broker (PeerDirectory::SetNames,
      // PeerGate::SetAllowList).
      "peers", "peer_allow",
      // Handshake admission (AdmissionController::SetLimits).
      "max_handshakes_per_peer", "max_handshakes", "max_queued_connects",
      "max_handshakes_per_tenant",
      // The broker's per-tenant quotas (BrokerQuotas::SetLimits).
      "max_connections_per_tenant", "max_services_per_tenant",
      "max_pooled_endpoints_per_tenant", "max_pooled_endpoints_per_service",
      // The functions' (TenantQuotas::SetLimits).
      "max_functions_per_tenant", "max_instances_per_tenant",
      "max_cold_workers_per_tenant", "max_workers",
      // The memory leases' (LeaseQuotas::SetLimits).
      "max_leases_per_tenant", "max_lease_bytes_per_tenant",
      "max_lease_bytes_total"};
  return kLive->contains(setting);
}

std::vector<ConfigChange> DiffConfigs(const config::SwiftdConfig& before,
                                      const config::SwiftdConfig& after) {
  std::vector<ConfigChange> changes;
  const google::protobuf::Descriptor* descriptor = before.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    std::string old_text = FieldText(before, field);
    std::string new_text = FieldText(after, field);
    if (old_text != new_text) {
      changes.push_back({field->name(), std::move(old_text),
                         std::move(new_text), IsLiveSetting(field->name())});
    }
  }
  return changes;
}

config::SwiftdConfig RunningAfterReload(const config::SwiftdConfig& before,
                                        const config::SwiftdConfig& after) {
  config::SwiftdConfig running = after;
  config::SwiftdConfig kept = before;
  std::vector<const FieldDescriptor*> waiting;
  const google::protobuf::Descriptor* descriptor = before.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (!IsLiveSetting(descriptor->field(i)->name())) {
      waiting.push_back(descriptor->field(i));
    }
  }
  running.GetReflection()->SwapFields(&running, &kept, waiting);
  return running;
}

}  // namespace swift
