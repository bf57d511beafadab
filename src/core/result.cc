#include "core/result.h"

namespace onestack {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kPreconditionFailed: return "precondition_failed";
    case ErrorCode::kRangeNotSatisfiable: return "range_not_satisfiable";
    case ErrorCode::kTooLarge: return "too_large";
    case ErrorCode::kInsufficientStorage: return "insufficient_storage";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kMethodNotAllowed: return "method_not_allowed";
    case ErrorCode::kNotImplemented: return "not_implemented";
    case ErrorCode::kNotAcceptable: return "not_acceptable";
    case ErrorCode::kLengthRequired: return "length_required";
    case ErrorCode::kUnprocessable: return "unprocessable";
    case ErrorCode::kOverQuota: return "over_quota";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace onestack
