-- wrk script of the licensing service benchmark (bench/service.sh): POST /v1/licenses with the bodies that
-- bench/service/prepare.py wrote, one JSON body per line.
--
--   wrk -t T -c C -d D -s licenses.lua URL -- BODIES TOKEN MODE THREADS
--
-- MODE distinct: thread i sends lines i, i+T, i+2T, ... in turn: no file is asked for twice as long as there are
--                more lines than requests (bodies sent again are counted);
-- MODE repeat:   each thread cycles through all the lines, starting at a different place.
-- done() prints one line, "RESULT {json}": answers by HTTP status, 200 answers, bodies sent again in distinct mode
-- (must be 0), latency percentiles (microseconds), duration, socket errors.

local threads = {}

function setup(thread)
    thread:set("index", #threads)
    table.insert(threads, thread)
end

function init(args)
    local path, token, threads_total = args[1], args[2], tonumber(args[4])
    mode = args[3]
    bodies = {}
    local n = 0
    for line in io.lines(path) do
        if mode == "repeat" or n % threads_total == index then
            table.insert(bodies, line)
        end
        n = n + 1
    end
    if #bodies == 0 then
        error("no bodies for thread " .. index .. " in " .. path)
    end
    headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token,
                ["User-Agent"] = "fci-bench-wrk" }
    next_body = 1
    if mode == "repeat" then
        next_body = (index * 37) % #bodies + 1
    end
    sent, ok, again, statuses = 0, 0, 0, {}
end

function request()
    if next_body > #bodies then
        -- Distinct mode: this thread's share is used up, so the run asked for more files than were protected.
        -- Start again (counted: the report refuses a distinct-files figure with repeats in it).
        if mode ~= "repeat" then
            again = again + 1
        end
        next_body = 1
    end
    local body = bodies[next_body]
    next_body = next_body + 1
    sent = sent + 1
    return wrk.format("POST", "/v1/licenses", headers, body)
end

function response(status, hdrs, body)
    if status == 200 then
        ok = ok + 1
    end
    statuses[status] = (statuses[status] or 0) + 1
end

local function status_text(t)
    local parts = {}
    for k, v in pairs(t) do
        table.insert(parts, '"' .. k .. '":' .. v)
    end
    return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
    local ok_total, again_total, sent_total = 0, 0, 0
    local statuses_total = {}
    for _, t in ipairs(threads) do
        ok_total = ok_total + t:get("ok")
        again_total = again_total + t:get("again")
        sent_total = sent_total + t:get("sent")
        for k, v in pairs(t:get("statuses")) do
            statuses_total[k] = (statuses_total[k] or 0) + v
        end
    end
    local e = summary.errors
    io.write(string.format(
        'RESULT {"ok":%d,"sent":%d,"again":%d,"statuses":%s,"requests":%d,"duration_us":%d,' ..
        '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
        ok_total, sent_total, again_total, status_text(statuses_total), summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        e.connect, e.read, e.write, e.status, e.timeout))
end
