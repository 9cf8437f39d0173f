# The KubeSkippy operator image. Build: docker build -t kubeskippy/operator:0.1.0 .
# Compiled with the full Node.js 24 image, run on the slim one, as a non-root user, with a read-only root
# filesystem: the process writes nothing outside /tmp (an emptyDir in the Deployment).

# --- build: compile TypeScript to dist/ and bundle it ---
FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build bundles dist/ with @kubernetes/client-node into dist/kubeskippy.mjs (what bin/kubeskippy.js loads).
COPY hack/build ./hack/build
RUN npm run build

# --- deps: production dependencies only (no compiler, no test tools) ---
FROM node:24-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime ---
FROM node:24-bookworm-slim
# Nothing should write under HOME; if a library tries, it lands in the writable /tmp.
ENV NODE_ENV=production HOME=/tmp
# At most two glibc malloc arenas: with one per thread (V8's helpers, libuv's pool) the memory freed after the
# informers' first lists stayed resident — RSS 290–330 MiB at 5 000 pods against 253 MiB with this
# (docs/scaling.md). `npm run bench` runs the operator with these ENV lines' settings.
# Freed blocks over 128 KiB (a 5 000-pod metrics poll's buffers) go back to the system at once: left alone, glibc
# raises both thresholds to the largest block freed and keeps such blocks resident (its own effect on RSS was not
# separable in single benchmark runs; every run of the final figures had it).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
# V8's semi-spaces (the young generation) at most 8 MiB. Sized from a large machine's memory it grew to 128 MiB in the
# benchmark (RSS 347 MiB at 5 000 pods against 237 MiB with this); the cost is more of the CPU of a quiet minute
# in garbage collection (2.5 s against 1.8 s with 16 MiB) — docs/scaling.md.
ENV NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
# The image's `node` user, by number: the kubelet can only enforce runAsNonRoot for a numeric user.
USER 1000:1000
EXPOSE 8080 8081 8082
# V8's optimising tiers capped at Maglev (--max-opt=2; on the command line: NODE_OPTIONS refuses it, and
# `npm run bench` reads it from here). The operator mostly waits on the API server; TurboFan's compiles on V8's helper
# threads in the first minute after a start cost more than its faster code saves. At 5 000 pods and 100 policies:
# first quiet minute 2.76 s of CPU against 3.35 s; twenty minutes in 2.00–2.41 s against 1.59 s, detection p50/p99
# 21–32/161–194 ms against 90/309 ms; RSS within the runs' spread (docs/scaling.md).
# No memory reducer (--no-memory-reducer, also refused by NODE_OPTIONS): when allocation slows down it runs extra
# full collections to shrink the heap — two a minute at 5 000 pods, 0.2–0.4 s of the event loop's CPU and more on
# V8's helpers — and within the chart's 512 Mi limit, where V8 already keeps the heap tight, shrank nothing: RSS twenty
# minutes in 230.3 MiB without it against 230.0 MiB with it (docs/scaling.md, `s10nomrlong`, `s9cg`).
ENTRYPOINT ["node", "--max-opt=2", "--no-memory-reducer", "/app/bin/kubeskippy.js"]
CMD ["run"]
