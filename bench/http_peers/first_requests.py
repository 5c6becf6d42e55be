#!/usr/bin/env python3
"""Keep-alive HTTP/1.1 load that reports each connection's first request apart from the rest.

wrk folds both into one histogram, so a slow accept (connections waiting in the kernel's
queue) looks like a slow server. Usage: first_requests.py PORT CONNECTIONS SECONDS PATH
"""
import asyncio
import sys
import time


async def connection(port, path, seconds, firsts, rest):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    end = time.perf_counter() + seconds
    latencies = firsts
    while time.perf_counter() < end:
        began = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - began)
        latencies = rest
    writer.close()


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))] * 1000


async def main(port, connections, seconds, path):
    firsts, rest = [], []
    began = time.perf_counter()
    await asyncio.gather(*(connection(port, path, seconds, firsts, rest) for _ in range(connections)))
    elapsed = time.perf_counter() - began
    firsts.sort()
    rest.sort()
    print(f"first requests: {len(firsts)}, median {percentile(firsts, 0.5):.1f} ms, max {firsts[-1] * 1000:.1f} ms")
    print(f"the others: {len(rest)} ({len(rest) / elapsed:.0f}/s), p50 {percentile(rest, 0.5):.1f} ms, "
          f"p99 {percentile(rest, 0.99):.1f} ms, max {rest[-1] * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))
