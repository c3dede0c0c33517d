-- wrk script: decisions.lua's requests, each with an Idempotency-Key of its own (16 random
-- hex digits, as a client's UUID would be random), so that every decision also inserts a
-- key at a random place in the keys' B-tree. A change to the store is measured with both
-- scripts: one that helps append-only writes may hurt random ones.
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

function init(args)
  math.randomseed(os.time() * 16 + tid)
  head = "POST /v1/decisions HTTP/1.1\r\nHost: " .. wrk.headers["Host"] ..
    "\r\nContent-Type: application/json\r\nIdempotency-Key: "
  id_prefix = '{"id":"b' .. tid .. "-"
  payer_prefix = '","at":"2026-11-21T08:00:00Z","action":"payment","payer":{"id":"payer-' .. tid .. "-"
end

function request()
  counter = counter + 1
  local body = id_prefix .. counter .. payer_prefix .. (counter % 5000) .. rest
  local key = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  return head .. key .. "\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
end

function done(summary, latency, requests)
  io.write(string.format("SUMMARY requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors_4xx_5xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
