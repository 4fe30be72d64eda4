-- wrk script for scripts/bench-serve: POST /v1/access/check over the generated inventory
-- (10,000 users, 2,000 accounts), each connection paced so the total rate is RATE requests/s.
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

-- Milliseconds to wait before the next request on this connection.
function delay()
  return 1000 * connections / rate
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
