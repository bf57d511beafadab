-- Shared by the wrk workload scripts: reads settings from the environment
-- and prints one machine-readable summary line at the end of a run.
local M = {}

-- Returns the value of environment variable NAME; fails when unset or empty.
function M.env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error("environment variable " .. name .. " is not set")
  end
  return v
end

-- wrk's done() hook: prints "BENCH key=value ..." (latencies in ms).
-- errors = socket errors (connect, read, write), timeouts and HTTP statuses
-- >= 400 (wrk's own status counter).
function M.done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  local secs = summary.duration / 1e6
  local rps = 0
  if secs > 0 then rps = summary.requests / secs end
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p90_ms=%.2f " ..
    "p99_ms=%.2f max_ms=%.2f errors=%d status_errors=%d connect_errors=%d " ..
    "read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, secs, rps,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errors, e.status, e.connect, e.read, e.write, e.timeout))
end

-- JSON body of a project-scoped token request for the given identity part.
function M.scoped_auth_body(identity)
  return '{"auth":{"identity":' .. identity .. ',"scope":{"project":' ..
         '{"name":"' .. M.env("BENCH_PROJECT") .. '","domain":{"id":"default"}}}}}'
end

-- Hex string of N random bytes (per-thread names and offsets: wrk's
-- Lua states all start math.random from the same seed).
function M.random_hex(n)
  local f = assert(io.open("/dev/urandom", "rb"))
  local bytes = f:read(n)
  f:close()
  return (bytes:gsub(".", function(ch) return string.format("%02x", ch:byte()) end))
end

-- Path of an object or container of the account under test
-- (BENCH_OBJECT_PATH is /v1/AUTH_<project_id>).
function M.object_path(rest)
  return M.env("BENCH_OBJECT_PATH") .. "/" .. rest
end

-- Request headers of the object workloads: the token, sent every request.
function M.object_headers()
  return { ["X-Auth-Token"] = M.env("BENCH_OBJECT_TOKEN") }
end

return M
