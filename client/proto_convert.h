// Conversions between swift/client.h's plain types and the Control API's
// messages (proto/swift.proto). Internal to libswift: they keep generated
// headers out of the public API.
//
// Pure functions of their arguments; thread-safe.
#ifndef SWIFT_CLIENT_PROTO_CONVERT_H_
#define SWIFT_CLIENT_PROTO_CONVERT_H_

#include "proto/swift.pb.h"
#include "swift/client.h"

namespace swift {

// DaemonStatusFromProto(): GetStatus()'s answer as a DaemonStatus.
DaemonStatus DaemonStatusFromProto(const v1::GetStatusResponse& response);

// FunctionSpecToProto(): `spec` as a request (its header is left unset).
// Durations become whole milliseconds, a positive one at least 1 and at
// most UINT32_MAX; an unset spare_instances stays unset.
v1::RegisterFunctionRequest FunctionSpecToProto(const FunctionSpec& spec);

RegisteredFunction RegisteredFunctionFromProto(
    const v1::RegisterFunctionResponse& response);

UnregisteredFunction UnregisteredFunctionFromProto(
    const v1::UnregisterFunctionResponse& response);

// InvocationToProto(): `invocation` as a request (header unset); its
// timeout as InvokeRequest.timeout_ms (zero stays 0: swiftd's default).
v1::InvokeRequest InvocationToProto(const Invocation& invocation);

// InvokeResultFromProto(): MODE_UNSPECIFIED (an older server) reads as
// kFork, as swiftd treats it.
InvokeResult InvokeResultFromProto(const v1::InvokeResponse& response);

// The two spellings of a mode.
v1::InvokeRequest::Mode InvokeModeToProto(InvokeMode mode);
InvokeMode InvokeModeFromProto(v1::InvokeRequest::Mode mode);

}  // namespace swift

#endif  // SWIFT_CLIENT_PROTO_CONVERT_H_
