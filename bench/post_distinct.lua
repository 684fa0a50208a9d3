-- wrk script: like post.lua, but every request's last user text carries a counter unique across
-- threads, so no two bodies are equal and mockbay's reply memo never answers: the cold path.
local file = assert(io.open(os.getenv("BENCH_REQUEST"), "r"))
local body = file:read("*a")
file:close()
local threads = 0

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

local counter = 0
function request()
  counter = counter + 1
  local marked = body:gsub("Which neighbourhood", "Which neighbourhood (" .. thread_id .. "-" .. counter .. ")", 1)
  return wrk.format("POST", nil, {
    ["content-type"] = "application/json",
    ["x-api-key"] = "anything",
    ["anthropic-version"] = "2023-06-01",
  }, marked)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
