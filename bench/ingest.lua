-- wrk script for bench/ingest.py: each request is one live report (a batch of one) from one of
-- AGENTS simulated agents, with a fresh report id, in the shape and size the agent sends.
-- Environment: AGENTS (how many keys ak_bench_0..N-1), BODY_FILE (the report body as JSON).
local agents = tonumber(os.getenv("AGENTS") or "1000")
local file = io.open(os.getenv("BODY_FILE"), "r")
local body = file:read("*a")
file:close()
local n = 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  n = math.random(0, agents - 1)
end

local function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffffffff), math.random(0, 0xffff),
    math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end

function request()
  n = n + 1
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local batch = string.format('{"sent_at":"%s","reports":[{"id":"%s","seq":%d,"agent_time":"%s","body":%s}]}',
    now, uuid4(), n, now, body)
  return wrk.format("POST", "/api/v1/reports", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer ak_bench_" .. (n % agents)}, batch)
end

function done(summary, latency, requests)
  -- one line bench/ingest.py reads: requests/s, p50/p99 in ms, errors
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    + summary.errors.status
  io.write(string.format("RESULT %d %.3f %.3f %.3f %d %d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, summary.errors.status))
end
