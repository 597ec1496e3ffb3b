// MergeConfig(); see effective_config.h.
#include "daemon/config/effective_config.h"

#include <cstdint>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/parse.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace swift {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;

// Sets `field` of `message` from a flag's value as absl prints it: lists
// are comma-separated, bools "true"/"false", durations stay text.
absl::Status SetFieldFromFlagText(config::SwiftdConfig& message,
                                  const FieldDescriptor* field,
                                  const std::string& text) {
  const Reflection* reflection = message.GetReflection();
  reflection->ClearField(&message, field);
  const auto unfit = [&] {
    return absl::InternalError(absl::StrCat("flag --", field->name(),
                                            "'s value '", text,
                                            "' does not fit its config field"));
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (field->is_repeated()) {
        for (absl::string_view item :
             absl::StrSplit(text, ',', absl::SkipEmpty())) {
          reflection->AddString(&message, field, std::string(item));
        }
      } else {
        reflection->SetString(&message, field, text);
      }
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool value = false;
      if (!absl::SimpleAtob(text, &value)) return unfit();
      reflection->SetBool(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) return unfit();
      reflection->SetInt32(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) return unfit();
      reflection->SetInt64(&message, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t value = 0;
      if (!absl::SimpleAtoi(text, &value)) return unfit();
      reflection->SetUInt64(&message, field, value);
      return absl::OkStatus();
    }
    default:
      return absl::InternalError(absl::StrCat("config field ", field->name(),
                                              " has a type flags do not take"));
  }
}

}  // namespace

bool GivenOnCommandLine(absl::string_view name) {
  // absl 20220623 has no public way to ask this (CommandLineFlag's
  // IsSpecifiedOnCommandLine is private); this is what absl's own usage
  // reporting calls.
  return absl::flags_internal::WasPresentOnCommandLine(name);
}

std::string EffectiveConfig::Describe(absl::string_view field) const {
  auto it = origins.find(field);
  if (it == origins.end()) return std::string(field);
  if (it->second.rfind("--", 0) == 0) return it->second;
  return absl::StrCat(it->second, ": ", field);
}

absl::StatusOr<EffectiveConfig> MergeConfig(const ConfigFile* file) {
  EffectiveConfig merged;
  const google::protobuf::Descriptor* descriptor =
      merged.config.GetDescriptor();
  const Reflection* reflection = merged.config.GetReflection();
  if (file != nullptr) merged.file = file->path;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(field->name());
    if (flag == nullptr) {
      return absl::InternalError(absl::StrCat("config field ", field->name(),
                                              " has no flag of the same name"));
    }
    if (GivenOnCommandLine(field->name())) {
      merged.origins[field->name()] = absl::StrCat("--", field->name());
    } else if (file != nullptr && SettingIsSet(file->config, field)) {
      // The file's value, moved across from a copy of the file's message.
      config::SwiftdConfig from_file = file->config;
      reflection->SwapFields(&merged.config, &from_file, {field});
      auto location = file->locations.find(field->name());
      merged.origins[field->name()] =
          location != file->locations.end() ? location->second : file->path;
      continue;
    }
    if (absl::Status status =
            SetFieldFromFlagText(merged.config, field, flag->CurrentValue());
        !status.ok()) {
      return status;
    }
  }
  return merged;
}

absl::StatusOr<EffectiveConfig> LoadEffectiveConfig(const std::string& path,
                                                    bool required) {
  if (path.empty()) return MergeConfig(nullptr);
  absl::StatusOr<ConfigFile> file = LoadConfigFile(path);
  if (absl::IsNotFound(file.status()) && !required) {
    return MergeConfig(nullptr);
  }
  if (!file.ok()) return file.status();
  return MergeConfig(&*file);
}

}  // namespace swift
