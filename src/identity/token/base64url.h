// URL-safe base64 (RFC 4648 §5), the alphabet Fernet keys, Fernet tokens and
// Keystone audit ids are written in. Internal to the token module.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace onestack::identity::token {

// Returns `bytes` in URL-safe base64; with `pad` the output is '='-padded to a
// multiple of 4 characters, without it the padding is left off.
std::string urlsafe_b64encode(std::string_view bytes, bool pad);

// Decodes URL-safe base64 with or without trailing '=' padding. Returns
// nullopt for any character outside the alphabet, misplaced or excess
// padding, or an impossible length (4n+1). Unused low bits of the last
// character are ignored, as Python's decoder does.
std::optional<std::string> urlsafe_b64decode(std::string_view text);

}  // namespace onestack::identity::token
