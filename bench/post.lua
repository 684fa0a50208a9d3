-- wrk script: POST the benchmark's /v1/messages body (bench/request.json, path in BENCH_REQUEST)
-- and print one JSON line of figures for run.py, since wrk's own report is meant for humans.
-- With BENCH_DISTINCT=1 every request's last user text carries a counter unique across threads,
-- so no two bodies are equal and mockbay's reply memo never answers: the cold path.
local file = assert(io.open(os.getenv("BENCH_REQUEST"), "r"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["content-type"] = "application/json"
wrk.headers["x-api-key"] = "anything"
wrk.headers["anthropic-version"] = "2023-06-01"

if os.getenv("BENCH_DISTINCT") == "1" then
  local threads = 0
  function setup(thread)
    thread:set("thread_id", threads)
    threads = threads + 1
  end

  local counter = 0
  function request()
    counter = counter + 1
    local marked = wrk.body:gsub("Which neighbourhood", "Which neighbourhood (" .. thread_id .. "-" .. counter .. ")", 1)
    return wrk.format(nil, nil, nil, marked)
  end
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
