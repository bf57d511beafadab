-- GET /v3/auth/tokens: an admin token validates a project-scoped token.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/v3/auth/tokens"
wrk.headers["X-Auth-Token"] = c.env("BENCH_ADMIN_TOKEN")
wrk.headers["X-Subject-Token"] = c.env("BENCH_SUBJECT_TOKEN")

done = c.done
