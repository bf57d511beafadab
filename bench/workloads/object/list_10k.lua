-- GET of a container of 10,000 objects as JSON: format=json with the
-- default limit (10000), so one request returns the whole listing.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = c.object_path("bench-list?format=json")
wrk.headers["X-Auth-Token"] = c.env("BENCH_OBJECT_TOKEN")

done = c.done
