-- wrk script for the benchmark: cycles through prepared requests and counts response statuses.
--
--   wrk -t2 -c8 -d30s -s bench/wrk.lua http://127.0.0.1:PORT -- requests.tsv
--
-- requests.tsv holds one request a line: METHOD <tab> PATH <tab> TOKEN <tab> BODY (TOKEN and BODY may be
-- empty). Thread i of n takes lines i, i+n, i+2n, ... so no two threads send the same line until the list
-- wraps around. done() prints one line "BENCH-JSON {...}" for bench/load.py to read.

local threads = {}

function setup(thread)
  thread:set("first", #threads)
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  for line in io.lines(args[1]) do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    table.insert(prepared, wrk.format(method, path, headers, body))
  end
  step = tonumber(args[2]) or 1
  position = first
  statuses = {}
end

function request()
  local r = prepared[(position % #prepared) + 1]
  position = position + step
  return r
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max,
    table.concat(parts, ", ")))
end
