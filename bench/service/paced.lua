-- Distinct files at a fixed offered rate (bench/service.sh, the latency target): licenses.lua's distinct mode, but
-- each wrk thread sends its requests on a schedule of RATE / THREADS per second instead of as fast as answers come
-- back. A request whose slot has passed (the service fell behind) goes at once, so the schedule catches up and the
-- achieved rate shows whether the service kept up; latency is wrk's, from the request's send.
--
--   wrk -t T -c C -d D -s paced.lua URL -- BODIES TOKEN distinct THREADS RATE
--
-- Run from the repository's root (bench/service.sh does).
dofile("bench/service/licenses.lua")

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } fci_bench_timespec;
int clock_gettime(int clock, fci_bench_timespec *out);
]]
local CLOCK_MONOTONIC = 1
local now_buffer = ffi.new("fci_bench_timespec")

local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, now_buffer)
    return tonumber(now_buffer.tv_sec) * 1000 + tonumber(now_buffer.tv_nsec) / 1e6
end

local common_init = init

function init(args)
    common_init(args)
    local threads_total, rate = tonumber(args[4]), tonumber(args[5])
    if not rate or rate <= 0 then
        error("paced.lua: the fifth argument must be the total rate per second, got " .. tostring(args[5]))
    end
    interval_ms = threads_total * 1000 / rate
    start_offset_ms = interval_ms * index / threads_total
    next_slot = nil
end

function delay()
    local now = now_ms()
    if next_slot == nil then
        -- Threads start their schedules a fraction of an interval apart, so their requests interleave.
        next_slot = now + start_offset_ms
    end
    local wait = next_slot - now
    next_slot = next_slot + interval_ms
    if wait <= 0 then
        return 0
    end
    return math.floor(wait)
end
