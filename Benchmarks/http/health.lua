-- wrk script: GET /health, with the same summary line as decisions.lua.
function done(summary, latency, requests)
  io.write(string.format("SUMMARY requests=%d duration_s=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f errors_4xx_5xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
