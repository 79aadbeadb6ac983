-- wrk script for GET runs: prints one JSON line the harness reads.
-- Usage: wrk ... -s bench/get.lua <url>

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.6f, "p50_us": %d, "p99_us": %d, "non_2xx_3xx": %d, '
      .. '"socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50.0), latency:percentile(99.0),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
