// OpenStack API microversions (the API-SIG "microversion specification"):
// a client asks for a version of a service's API with
// "OpenStack-API-Version: <service type> X.Y", the server answers with the
// version it used, and every response varies on that header. This module
// parses and negotiates that header for one service and writes the matching
// response headers and version-document fields; it knows no service's
// behaviour per version. Everything here is a pure function: thread-safe.
//
// The reference behaviour is Nova's (nova/api/openstack/wsgi.py
// Request.set_api_version_request and Resource._process_stack, over
// microversion_parse.get_version), used here for every service:
//   - no header for our service: the service's minimum version;
//   - "latest" (exactly, case-sensitive as Nova compares it): the maximum;
//   - a malformed version: 400; a well-formed one out of range: 406.
// Cinder's own parser (cinder/api/openstack/wsgi.py) differs in corner cases
// (it finds "volume" by substring and refuses a header naming only other
// services); the well-formed cases agree, so we keep one behaviour.
#pragma once

#include <compare>
#include <span>
#include <string>
#include <string_view>

#include "core/http/response.h"
#include "core/result.h"

namespace onestack::http {

// The standard request and response header.
inline constexpr std::string_view kApiVersionHeader = "OpenStack-API-Version";

// A microversion "major.minor". {0, 0} is the null version: an unversioned
// service. Ordered by major, then minor (2.10 > 2.9).
struct Version {
  int major = 0;
  int minor = 0;

  friend constexpr auto operator<=>(const Version&, const Version&) = default;
  constexpr bool is_null() const { return major == 0 && minor == 0; }
  // "2.95". The null version renders as "0.0".
  std::string to_string() const;
};

// The versions one service supports, inclusive at both ends. min == max ==
// {0, 0} marks a service without microversions (Glance, Neutron).
struct VersionRange {
  Version min;
  Version max;

  constexpr bool is_null() const { return min.is_null() && max.is_null(); }
  constexpr bool contains(Version v) const { return min <= v && v <= max; }
};

// What negotiation needs to know about one service. Meant to be a constant
// next to the service's routes; the string views must outlive every call
// (static strings).
struct ServiceVersions {
  std::string_view service_type;  // as in the catalog: "compute", "volume"
  VersionRange range;
  // A pre-standard header also accepted, and echoed, e.g. Nova's
  // "X-OpenStack-Nova-API-Version"; empty for none.
  std::string_view legacy_header = {};
};

// Parses "X.Y" as Nova's APIVersionRequest does (regex
// ^([1-9]\d*)\.([1-9]\d*|0)$): ASCII digits only, major >= 1, no sign, no
// whitespace, no leading zeros ("02.1" and "2.01" are malformed, "2.0" is
// fine), minor of any length ("2.95"); "2", "2.", ".1", "2.1.1", "0.1" are
// malformed. Returns the version, or kInvalidArgument with Nova's message
// ("API Version String <text> is of invalid format. Must be of format
// MajorNum.MinorNum.") for a malformed string. A well-formed number too large
// for an int (more than 9 digits) gives kNotAcceptable: Python has no such
// limit, so Nova calls it merely unsupported (406), and so do we.
Result<Version> parse_version(std::string_view text);

// Negotiates the version of a request given every value of its
// OpenStack-API-Version header (`standard`) and of service.legacy_header
// (`legacy`), each in the order received; repeated header lines count as
// one comma-separated list, as WSGI folds them. The views are only read
// during the call.
//   - Standard entries are "<service type> <version>" separated by commas;
//     the last entry naming our service type (compared case-insensitively)
//     wins; entries for other services and entries without a version are
//     skipped (microversion_parse.check_standard_header).
//   - Without such an entry the legacy header is used: its last
//     comma-separated value (microversion_parse.check_legacy_headers). So
//     when both name a version the standard header wins, even if its value
//     is malformed.
//   - Neither: range.min. "latest": range.max.
// Errors: kInvalidArgument (answer 400) for a malformed version, including an
// empty legacy value; kNotAcceptable (answer 406) for one outside the range,
// with Nova's message ("Version 2.99 is not supported by the API. Minimum is
// 2.1 and maximum is 2.95."). A service with a null range ignores the
// headers and gets the null version.
Result<Version> negotiate_version(std::span<const std::string_view> standard,
                                  std::span<const std::string_view> legacy,
                                  const ServiceVersions& service);

// The same over a request's header fields (Request::headers), reading every
// line of both headers.
Result<Version> negotiate_version(const beast_http::fields& headers,
                                  const ServiceVersions& service);

// Sets the response headers for a negotiated `version`, as Nova's
// Resource._process_stack does: "OpenStack-API-Version: <service type> X.Y",
// the legacy header (if the service has one) with "X.Y", and adds both names
// to Vary. An existing Vary is kept and appended to (a name it already lists,
// or "*", is not added again); all Vary lines become one. Does nothing for
// the null version (Nova skips a null api_version_request). Call it on error
// responses too: the API-SIG guideline wants the headers on every response.
void set_version_headers(Response& response, const ServiceVersions& service, Version version);

// The "version" and "min_version" strings of a version document, as Nova's
// GET / lists them ("version": "2.95", "min_version": "2.1"); both empty for
// an unversioned service (Nova's v2.0 entry), i.e. a null range.
struct VersionDocumentFields {
  std::string version;      // range.max
  std::string min_version;  // range.min
};
VersionDocumentFields version_document_fields(const VersionRange& range);

}  // namespace onestack::http
