-- GET of one 4 MiB object (above [object] inline_max_bytes: on the blob
-- store, not in the metadata database).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = c.object_path("bench-get/big-4m")
wrk.headers["X-Auth-Token"] = c.env("BENCH_OBJECT_TOKEN")

done = c.done
