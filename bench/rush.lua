-- wrk script for the opening rush: people arrive on a schedule, each loads the
-- talk page (a visitor without a cookie: the page gives them their own CSRF
-- cookie and token), and those who register post the form at once with them.
--
-- Usage: wrk -tN -cN -d600s -s bench/rush.lua <base url> -- <page path> <post path> <schedule file> <origin> <start> <N>
-- One connection per thread (-t equal to -c): a thread follows one person from
-- page to post. Each line of the schedule: arrival (ms after <start>), 1 if the
-- person posts, name, email (form-encoded); thread k takes lines k, k+N, ...
-- <start> is a CLOCK_MONOTONIC time in seconds, shared by every thread.
-- When its people are done a thread says so in <schedule file>.done; the last
-- one stops wrk.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } rush_timespec;
int clock_gettime(int clock, rush_timespec *spec);
int kill(int pid, int sig);
int getpid(void);
]]
local CLOCK_MONOTONIC, SIGINT = 1, 2

local function now()
  local spec = ffi.new("rush_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, spec)
  return tonumber(spec.tv_sec) + tonumber(spec.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

-- Globals, not locals: done() reads them with thread:get(), which sees globals only.
people, current, phase, sent_at = {}, 1, "page", 0
cookie, token = nil, nil
pages, page_errors, posts, redirects = 0, 0, 0, 0
page_us, post_us, other = "", "", ""
first_sent, last_answer = 0, 0
finished, armed = false, false
local page_latencies, post_latencies, statuses = {}, {}, {}

function init(args)
  page_path, post_path, schedule, origin = args[1], args[2], args[3], args[4]
  start, count = tonumber(args[5]), tonumber(args[6])
  local index = 0
  for line in io.lines(schedule) do
    local arrival, posts_form, name, email = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)")
    if index % count == id then
      people[#people + 1] = {
        at = start + tonumber(arrival) / 1000, posts = posts_form == "1", name = name, email = email,
      }
    end
    index = index + 1
  end
end

local function filler()
  return wrk.format("GET", "/__bench__/bare/", { ["X-Forwarded-Proto"] = "https" })
end

local function finish()
  finished = true
  page_us = table.concat(page_latencies, ",")
  post_us = table.concat(post_latencies, ",")
  local done = io.open(schedule .. ".done", "a")
  done:write("x")
  done:flush()
  local size = done:seek("end")
  done:close()
  if size >= count then ffi.C.kill(ffi.C.getpid(), SIGINT) end
end

function delay()
  armed = true
  local person = people[current]
  if person == nil and not finished then finish() end
  -- Done: idle (wrk stops when the last thread is done), adding nothing to the load.
  if finished then return 10000 end
  if phase ~= "page" then return 0 end
  local wait = (person.at - now()) * 1000
  return wait > 0 and wait or 0
end

function request()
  -- wrk calls request() once after init() to inspect it (without delay() first), and never sends that one.
  if not armed then return filler() end
  armed = false
  local person = people[current]
  if finished or person == nil then
    if not finished then finish() end
    return filler()
  end
  sent_at = now()
  if first_sent == 0 then first_sent = sent_at end
  if phase == "page" then
    return wrk.format("GET", page_path, { ["X-Forwarded-Proto"] = "https" })
  end
  return wrk.format("POST", post_path, {
    ["Cookie"] = "csrftoken=" .. cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-Proto"] = "https",
    ["Origin"] = origin,
  }, "csrfmiddlewaretoken=" .. token .. "&name=" .. person.name .. "&email=" .. person.email
    .. "&consent=on&website=")
end

local function next_person()
  current = current + 1
  phase = "page"
  if people[current] == nil and not finished then finish() end
end

function response(status, headers, body)
  if finished or sent_at == 0 then return end
  local answered = now()
  local elapsed = math.floor((answered - sent_at) * 1e6)
  last_answer = answered
  if phase == "page" then
    pages = pages + 1
    page_latencies[#page_latencies + 1] = elapsed
    local set_cookie = headers["Set-Cookie"] or ""
    cookie = set_cookie:match("csrftoken=([^;]+)")
    token = body:match('name="csrfmiddlewaretoken" value="([^"]+)"')
    if status ~= 200 or cookie == nil or token == nil then
      page_errors = page_errors + 1
      next_person()
    elseif people[current].posts then
      phase = "post"
    else
      next_person()
    end
  else
    posts = posts + 1
    post_latencies[#post_latencies + 1] = elapsed
    if status == 302 then
      redirects = redirects + 1
    else
      statuses[status] = (statuses[status] or 0) + 1
      local parts = {}
      for code, count in pairs(statuses) do parts[#parts + 1] = string.format('"%d": %d', code, count) end
      other = table.concat(parts, ", ")
    end
    next_person()
  end
  sent_at = 0
end

function done(summary, latency, requests)
  local out = { pages = 0, page_errors = 0, posts = 0, redirects = 0 }
  local page_lists, post_lists, others = {}, {}, {}
  local first, last = nil, 0
  for _, thread in ipairs(threads) do
    for key, _ in pairs(out) do out[key] = out[key] + (thread:get(key) or 0) end
    local pu, pp = thread:get("page_us"), thread:get("post_us")
    if pu ~= nil and pu ~= "" then page_lists[#page_lists + 1] = pu end
    if pp ~= nil and pp ~= "" then post_lists[#post_lists + 1] = pp end
    local o = thread:get("other")
    if o ~= nil and o ~= "" then others[#others + 1] = "{" .. o .. "}" end
    local f, l = thread:get("first_sent"), thread:get("last_answer")
    if f ~= nil and f > 0 and (first == nil or f < first) then first = f end
    if l ~= nil and l > last then last = l end
  end
  io.write(string.format(
    'BENCH {"pages": %d, "page_errors": %d, "posts": %d, "redirects": %d, "other": [%s], '
      .. '"seconds": %.6f, "page_us": [%s], "post_us": [%s]}\n',
    out.pages, out.page_errors, out.posts, out.redirects, table.concat(others, ", "),
    (first and last > first) and (last - first) or 0, table.concat(page_lists, ","),
    table.concat(post_lists, ",")))
end
