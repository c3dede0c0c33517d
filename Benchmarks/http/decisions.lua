-- wrk script: POST /v1/decisions with low-value card payments spread over many payers
-- (each thread its own payers), so that counters, decisions and audit events are written
-- for every request, as in production.
-- wrk shares the two cores with the server, so the client's work per request is kept small:
-- the request is put together from parts made once per thread (the same bytes that
-- wrk.format would give, without its header table and formatting), and there is no
-- response() callback (wrk counts answers of status 400 and above itself,
-- summary.errors.status).
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("tid", thread_number)
end

local counter = 0
local head, id_prefix, payer_prefix
local rest = '","psp_country":"DE","instrument":"card-1"},' ..
  '"payee":{"id":"shop","psp_country":"DE"},"amount":{"value":"12.00","currency":"EUR"},' ..
  '"payment":{"method":"card","channel":"remote","initiator":"payer"},"risk":{"score":0.01}}'

-- The decider's key, from BENCH_API_KEY (Benchmarks/http/keys.sh makes one).
local key = os.getenv("BENCH_API_KEY")

function init(args)
  head = "POST /v1/decisions HTTP/1.1\r\nHost: " .. wrk.headers["Host"] ..
    (key and ("\r\nAuthorization: Bearer " .. key) or "") ..
    "\r\nContent-Type: application/json\r\nContent-Length: "
  id_prefix = '{"id":"b' .. tid .. "-"
  payer_prefix = '","at":"2026-11-21T08:00:00Z","action":"payment","payer":{"id":"payer-' .. tid .. "-"
end

-- {"id":"b<thread>-<n>", ..., "payer":{"id":"payer-<thread>-<n mod 5000>", ...}, ...}
function request()
  counter = counter + 1
  local body = id_prefix .. counter .. payer_prefix .. (counter % 5000) .. rest
  return head .. #body .. "\r\n\r\n" .. body
end

function done(summary, latency, requests)
  io.write(string.format("SUMMARY requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors_4xx_5xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
