-- wrk script: POST /v1/decisions with low-value card payments spread over many payers
-- (each thread its own payers), so that counters, decisions and audit events are written
-- for every request, as in production.
-- No response() callback: wrk counts answers of status 400 and above itself
-- (summary.errors.status), and a Lua callback per answer costs wrk several microseconds
-- of the two cores it shares with the server.
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("tid", thread_number)
end

local counter = 0

function request()
  counter = counter + 1
  local payer = "payer-" .. tid .. "-" .. (counter % 5000)
  local body = string.format(
    '{"id":"b%d-%d","at":"2026-11-21T08:00:00Z","action":"payment",' ..
    '"payer":{"id":"%s","psp_country":"DE","instrument":"card-1"},' ..
    '"payee":{"id":"shop","psp_country":"DE"},"amount":{"value":"12.00","currency":"EUR"},' ..
    '"payment":{"method":"card","channel":"remote","initiator":"payer"},"risk":{"score":0.01}}',
    tid, counter, payer)
  return wrk.format("POST", "/v1/decisions", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("SUMMARY requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors_4xx_5xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
