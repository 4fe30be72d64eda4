-- wrk script for scripts/bench-serve: POST /v1/access/check over the generated inventory
-- (10,000 users, 2,000 accounts), at RATE requests/s on a fixed schedule shared by the
-- connections (run wrk with one thread: -t1).
local users = tonumber(os.getenv("USERS") or "10000")
local accounts = 2000
local connections = tonumber(os.getenv("CONNECTIONS") or "5")
local rate = tonumber(os.getenv("RATE") or "2000")
local actions = { "read", "write", "admin" }
local i = 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  i = i + 1
  local body = string.format(
    '{"principal":"u%d","action":"%s","resource":"aws_account:a%d","context":{"mfa":true,"ticket":"CHG-%d","approver":"u3"},"duration":"4h"}',
    math.random(0, users - 1), actions[(i % 3) + 1], math.random(0, accounts - 1), i)
  return wrk.format("POST", "/v1/access/check", { ["Content-Type"] = "application/json" }, body)
end

-- A fixed schedule (open loop): request k of this thread is due at start + k / RATE, whatever
-- the latency of earlier ones. wrk calls delay() before each request and waits that long *after*
-- the previous response, so a constant delay of CONNECTIONS / RATE undershoots the rate by the
-- latency; the wall clock (clock_gettime through LuaJIT's FFI) tells how long is left instead.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } vouch_timespec;
  int clock_gettime(int clk_id, vouch_timespec *tp);
]]
local ts = ffi.new("vouch_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local start = nil
local scheduled = 0

-- Milliseconds to wait before the next request: until its slot on the schedule.
function delay()
  local now = now_ms()
  start = start or now
  scheduled = scheduled + 1
  local due = start + scheduled * 1000 / rate
  return math.max(0, due - now)
end

function done(summary, latency, requests)
  io.write(string.format("requests: %d in %.1f s (%.0f/s); errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("latency p%s: %.3f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("latency max: %.3f ms\n", latency.max / 1000))
end
