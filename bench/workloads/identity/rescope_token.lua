-- POST /v3/auth/tokens with the token method: an unscoped token is
-- exchanged for a token scoped to the admin project.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/v3/auth/tokens"
wrk.headers["Content-Type"] = "application/json"
wrk.body = c.scoped_auth_body(
  '{"methods":["token"],"token":{"id":"' .. c.env("BENCH_UNSCOPED_TOKEN") .. '"}}')

done = c.done
