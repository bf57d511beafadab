-- GET of a 4 KiB object, cycling over the BENCH_OBJECT_GET_COUNT objects
-- obj-00000.. of the prepared container, each thread from a random start.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local base = c.object_path("bench-get/")
local headers = c.object_headers()
local count = tonumber(c.env("BENCH_OBJECT_GET_COUNT"))
local n = 0

function init(args)
  n = tonumber(c.random_hex(4), 16) % count
end

function request()
  n = (n + 1) % count
  return wrk.format("GET", string.format("%sobj-%05d", base, n), headers)
end

done = c.done
