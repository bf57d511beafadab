-- GET of one 64 MiB object.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = c.object_path("bench-get/big-64m")
wrk.headers["X-Auth-Token"] = c.env("BENCH_OBJECT_TOKEN")

done = c.done
