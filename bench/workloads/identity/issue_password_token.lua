-- POST /v3/auth/tokens with the password method, scoped to the admin
-- project. Each request checks a bcrypt hash, so CPU bounds the rate.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/v3/auth/tokens"
wrk.headers["Content-Type"] = "application/json"
wrk.body = c.scoped_auth_body(
  '{"methods":["password"],"password":{"user":{"name":"' ..
  c.env("BENCH_USER") .. '","domain":{"id":"default"},"password":"' ..
  c.env("BENCH_PASSWORD") .. '"}}}')

done = c.done
