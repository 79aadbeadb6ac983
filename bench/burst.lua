-- wrk script for the registration burst: every attendee posts once, with
-- their own CSRF cookie and token, then wrk stops itself.
--
-- Usage: wrk -t1 -c64 -d600s -s bench/burst.lua <base url> -- <path> <attendees file> <origin>
-- Each line of the attendees file: csrf cookie, csrf token, name, email (form-encoded), and the client
-- address the proxy in front reports for them (tab-separated).
-- Run with one thread (-t1): the count of answers lives in that thread.
-- Once every attendee is sent, connections that need something to do ask
-- for the bare page (GET, answered 200); posts are answered 302 (a redirect).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *spec);
int kill(int pid, int sig);
int getpid(void);
]]
local CLOCK_MONOTONIC, SIGINT = 1, 2

local function now()
  local spec = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, spec)
  return tonumber(spec.tv_sec) + tonumber(spec.tv_nsec) / 1e9
end

-- Globals, not locals: done() reads them from the thread with thread:get(), which sees globals only.
attendees, sent, answered, redirects = {}, 0, 0, 0
path, origin, started, finished = nil, nil, nil, nil
-- Answers other than 302, as '"status": count' pairs (thread:get() copies strings and numbers, not tables).
statuses, other = {}, ""
probed = false

function init(args)
  path, origin = args[1], args[3]
  for line in io.lines(args[2]) do
    local cookie, token, name, email, address = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)")
    attendees[#attendees + 1] = {
      headers = {
        ["Cookie"] = "csrftoken=" .. cookie,
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Forwarded-Proto"] = "https",
        ["X-Forwarded-For"] = address,
        ["Origin"] = origin,
      },
      body = "csrfmiddlewaretoken=" .. token .. "&name=" .. name .. "&email=" .. email .. "&consent=on&website=",
    }
  end
end

local function filler()
  return wrk.format("GET", "/__bench__/bare/", { ["X-Forwarded-Proto"] = "https" })
end

function request()
  -- wrk calls request() once after init() to inspect it, and never sends that one.
  if not probed then
    probed = true
    return filler()
  end
  if started == nil then started = now() end
  sent = sent + 1
  local attendee = attendees[sent]
  if attendee == nil then return filler() end
  return wrk.format("POST", path, attendee.headers, attendee.body)
end

function response(status, headers, body)
  if status == 200 then return end -- the filler GETs
  answered = answered + 1
  if status == 302 then
    redirects = redirects + 1
  else
    statuses[status] = (statuses[status] or 0) + 1
    local pairs_text = {}
    for code, count in pairs(statuses) do
      pairs_text[#pairs_text + 1] = string.format('"%d": %d', code, count)
    end
    other = table.concat(pairs_text, ", ")
  end
  if answered == #attendees and finished == nil then
    finished = now()
    ffi.C.kill(ffi.C.getpid(), SIGINT)
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local thread = threads[1]
  local started_at, finished_at = thread:get("started"), thread:get("finished")
  io.write(string.format(
    'BENCH {"posts": %d, "seconds": %.6f, "redirects": %d, "other": {%s}, "socket_errors": %d}\n',
    thread:get("answered"), (finished_at or 0) - (started_at or 0), thread:get("redirects"),
    thread:get("other"),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
