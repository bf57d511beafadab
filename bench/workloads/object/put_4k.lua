-- PUT of a 4 KiB object into one container, under a new name every
-- request: each thread takes a random prefix and counts up.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local base = c.object_path("bench-put/put-")
local headers = c.object_headers()
headers["Content-Type"] = "application/octet-stream"
local body = string.rep("x", 4096)
local prefix
local n = 0

function init(args)
  prefix = c.random_hex(8) .. "-"
end

function request()
  n = n + 1
  return wrk.format("PUT", base .. prefix .. n, headers, body)
end

done = c.done
