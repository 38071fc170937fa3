// LoadGuard's OCPP proxy against a direct connection and against nginx as a plain WebSocket
// reverse proxy, all on loopback and in the same run (issue 2, "Benchmarks").
//
// Chargers (simulated here, OCPP 1.6J) send a Heartbeat and a MeterValues every second to a CSMS
// (also here) over three paths: (a) directly, (b) through LoadGuard (a child process), (c) through
// nginx (a child process). Every round trip is recorded; LoadGuard's and nginx's added latency is
// the path's percentile minus the direct path's. Memory comes from /proc/<pid>/status, CPU from
// /proc/<pid>/stat over the measuring windows. Then 10,000 idle chargers connect through LoadGuard.
//
// Targets: LoadGuard's p99 overhead ≤ 2 × nginx's; ≤ 64 KiB per connected charger; 10,000 idle
// chargers connected at once within 24 GiB; no call lost or answered with an error on any path.
// Exit status: 0 all targets met, 1 a target missed (named in the output), 2 the run failed.

import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

func say(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func loadAverage() -> String {
    (ProcFS.read("/proc/loadavg") ?? "").split(separator: " ").prefix(3).joined(separator: " ")
}

func sleep(until deadline: NIODeadline) async throws {
    let remaining = (deadline - NIODeadline.now()).nanoseconds
    if remaining > 0 { try await Task.sleep(nanoseconds: UInt64(remaining)) }
}

func sleep(seconds: Double) async throws {
    try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
}

/// The processes whose CPU and memory count for a proxy: LoadGuard's one, or nginx's master and workers.
struct Measured {
    var pids: [Int32]
    /// The processes whose RSS grows with connections (nginx's workers; LoadGuard itself).
    var connectionPIDs: [Int32]

    var cpuTicks: Int { pids.compactMap { ProcFS.cpuTicks(pid: $0) }.reduce(0, +) }
    var rssKiB: Int { connectionPIDs.compactMap { ProcFS.rssKiB(pid: $0) }.reduce(0, +) }
}

/// One proxy's numbers over the measuring windows of its slices.
struct CPUAccount {
    var ticks = 0
}

func percentile99(_ values: [UInt64]) -> Double { LatencySummary(nanoseconds: values).p99 }

func pathReport(_ snapshot: ChargerFleet.Snapshot) -> Report.Path {
    Report.Path(
        latencyMicroseconds: LatencySummary(nanoseconds: snapshot.roundTrips),
        callsSent: snapshot.sentInWindow,
        callsAnswered: snapshot.answeredInWindow,
        callErrors: snapshot.callErrors,
        callsFromPath: snapshot.callsReceived,
        connectionsDropped: snapshot.droppedByPeer,
        generatorLatenessP99Microseconds: percentile99(snapshot.sendLateness)
    )
}

func run(options: Options) async throws -> Report {
    let loadStart = loadAverage()
    let startingLimit = FileLimit.current()
    let wantedFiles = 2 * max(3 * options.chargers, options.idleChargers) + 4096
    let limit = FileLimit.raise(to: wantedFiles)
    if limit < wantedFiles {
        say("warning: could not raise the open-file limit to \(wantedFiles) (it is \(limit)); connections may fail")
    }

    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("loadguard-proxybench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    say("working directory \(directory)")

    let chargerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let chargerLoop = chargerGroup.next()
    let csms = try await CSMSProcess.launch(directory: directory)
    say("CSMS (pid \(csms.process.pid)) on 127.0.0.1:\(csms.port)")

    // LoadGuard.
    let (binary, binaryWarning) = try LoadGuardUnderTest.locate(log: say)
    if let binaryWarning { say("warning: \(binaryWarning)") }
    let loadGuardPort = try freeLoopbackPort()
    let loadGuardConfiguration = try LoadGuardUnderTest.writeConfiguration(
        directory: directory,
        port: loadGuardPort,
        csmsPort: csms.port
    )
    let loadGuard = try LoadGuardUnderTest.launch(
        binary: binary,
        configuration: loadGuardConfiguration,
        directory: directory,
        openFileLimit: options.loadGuardOpenFiles
    )
    // nginx.
    let nginxPort = try freeLoopbackPort()
    let nginxConfiguration = try NginxBaseline.writeConfiguration(
        directory: directory,
        port: nginxPort,
        csmsPort: csms.port,
        workers: options.nginxWorkers
    )
    let nginx = try NginxBaseline.launch(
        binary: try NginxBaseline.locate(),
        configuration: nginxConfiguration,
        directory: directory
    )
    var children = [loadGuard, nginx, csms.process]
    defer {
        // Best effort on failure paths; the normal path stops them below.
        for child in children where child.isRunning { kill(child.pid, SIGKILL) }
    }
    try await loadGuard.waitUntilListening(port: loadGuardPort)
    try await nginx.waitUntilListening(port: nginxPort)
    say(
        "LoadGuard (pid \(loadGuard.pid)) on 127.0.0.1:\(loadGuardPort), nginx (pid \(nginx.pid)) on 127.0.0.1:\(nginxPort)"
    )
    try await sleep(seconds: 1)

    let loadGuardProcess = Measured(pids: [loadGuard.pid], connectionPIDs: [loadGuard.pid])
    let nginxWorkers = ProcFS.children(of: nginx.pid)
    guard nginxWorkers.count == options.nginxWorkers else {
        throw BenchmarkError.setup(
            "expected \(options.nginxWorkers) nginx workers under pid \(nginx.pid), found \(nginxWorkers.count); "
                + "its log:\n\(nginx.logTail())"
        )
    }
    let nginxProcess = Measured(pids: [nginx.pid] + nginxWorkers, connectionPIDs: nginxWorkers)
    let loadGuardIdleRSS = loadGuardProcess.rssKiB
    let nginxIdleRSS = nginxProcess.rssKiB

    // The three fleets, all connected for the whole traffic phase.
    let direct = try await ChargerFleet.make(name: "direct", port: csms.port, loop: chargerLoop)
    let viaLoadGuard = try await ChargerFleet.make(name: "loadguard", port: loadGuardPort, loop: chargerLoop)
    let viaNginx = try await ChargerFleet.make(name: "nginx", port: nginxPort, loop: chargerLoop)
    for fleet in [direct, viaLoadGuard, viaNginx] {
        let start = ContinuousClock.now
        let result = await fleet.connect(count: options.chargers, concurrency: options.connectConcurrency)
        guard result.connected == options.chargers else {
            throw BenchmarkError.setup(
                "only \(result.connected) of \(options.chargers) chargers connected on the \(fleet.name) path; "
                    + "first error: \(result.firstError ?? "none")"
            )
        }
        say(
            "\(options.chargers) chargers connected and booted on the \(fleet.name) path in \(ContinuousClock.now - start)"
        )
    }
    try await sleep(seconds: 2)
    let loadGuardConnectedRSS = loadGuardProcess.rssKiB
    let nginxConnectedRSS = nginxProcess.rssKiB

    // Traffic, in interleaved slices: direct, LoadGuard, nginx, then nginx, LoadGuard, direct …
    let slice = TimeAmount.nanoseconds(Int64(options.seconds) * 1_000_000_000 / Int64(options.segments))
    var loadGuardCPU = CPUAccount()
    var nginxCPU = CPUAccount()
    for segment in 0..<options.segments {
        let order: [(ChargerFleet, Measured?)] = [
            (direct, nil), (viaLoadGuard, loadGuardProcess), (viaNginx, nginxProcess),
        ]
        for (fleet, process) in segment % 2 == 0 ? order : order.reversed() {
            let start = NIODeadline.now() + .milliseconds(100)
            let windowStart = start + .seconds(Int64(options.warmup))
            let windowEnd = windowStart + slice
            say(
                "slice \(segment + 1)/\(options.segments): \(fleet.name), \(options.warmup) s warm-up + \(slice.nanoseconds / 1_000_000) ms measured"
            )
            try await fleet.startTraffic(start: start, stop: windowEnd, windowStart: windowStart, windowEnd: windowEnd)
            try await sleep(until: windowStart)
            let ticksBefore = process?.cpuTicks ?? 0
            try await sleep(until: windowEnd)
            let ticks = (process?.cpuTicks ?? 0) - ticksBefore
            if fleet.name == viaLoadGuard.name { loadGuardCPU.ticks += ticks }
            if fleet.name == viaNginx.name { nginxCPU.ticks += ticks }
            try await sleep(seconds: 1)  // the last calls' results
            for child in [loadGuard, nginx, csms.process] {
                try child.ensureRunning(during: "slice \(segment + 1) on the \(fleet.name) path")
            }
        }
    }
    let loadGuardAfterTrafficRSS = loadGuardProcess.rssKiB
    let nginxAfterTrafficRSS = nginxProcess.rssKiB
    let directSnapshot = try await direct.snapshot()
    let loadGuardSnapshot = try await viaLoadGuard.snapshot()
    let nginxSnapshot = try await viaNginx.snapshot()
    for fleet in [direct, viaLoadGuard, viaNginx] { try await fleet.closeAll() }

    // Wait until LoadGuard and nginx closed their upstream sessions too.
    let closing = ContinuousClock.now
    while csms.openSessions > 0, ContinuousClock.now - closing < .seconds(15) {
        try await sleep(seconds: 0.2)
    }
    let lingering = csms.openSessions
    if lingering > 0 {
        say("warning: \(lingering) CSMS sessions still open 15 s after the chargers left")
    }

    // Idle chargers.
    var idle: Report.Idle?
    var idleShortfall: String?
    if options.idleChargers > 0 {
        try await sleep(seconds: 1)
        let baseRSS = loadGuardProcess.rssKiB
        let fleet = try await ChargerFleet.make(name: "idle", port: loadGuardPort, loop: chargerLoop)
        // LoadGuard holds two sockets per charger (charger and CSMS side). A Swift process on Linux
        // must never run out of descriptors: libdispatch's worker monitor then aborts it. So only
        // as many chargers connect as LoadGuard's limit leaves room for, and a shortfall is a miss.
        let limitNow = ProcFS.openFileLimit(pid: loadGuard.pid) ?? 0
        let inUse = ProcFS.openFileCount(pid: loadGuard.pid) ?? 0
        let capacity = max(0, (limitNow - inUse - 64) / 2)
        let attempt = min(options.idleChargers, capacity)
        if attempt < options.idleChargers {
            idleShortfall =
                "LoadGuard's open-file limit is \(limitNow) with \(inUse) in use: room for \(capacity) chargers at "
                + "2 sockets each, not \(options.idleChargers); connecting \(attempt) (raise its limit, e.g. "
                + "LimitNOFILE=65536 in the service unit)"
            say("warning: \(idleShortfall!)")
        }
        try loadGuard.ensureRunning(during: "the idle phase")
        say("connecting \(attempt) idle chargers through LoadGuard …")
        let start = ContinuousClock.now
        let result = await fleet.connect(count: attempt, concurrency: options.connectConcurrency)
        let connectDuration = ContinuousClock.now - start
        let seconds = Double(connectDuration.components.seconds) + Double(connectDuration.components.attoseconds) / 1e18
        say("\(result.connected) connected in \(connectDuration); holding \(options.idleHold) s")
        try await sleep(seconds: Double(options.idleHold))
        let rss = loadGuardProcess.rssKiB
        let files = ProcFS.openFileCount(pid: loadGuard.pid) ?? -1
        let sessions = csms.openSessions
        let beforeHeartbeat = try await fleet.snapshot()
        let spread = TimeAmount.seconds(2)
        try await fleet.heartbeatOnce(start: NIODeadline.now() + .milliseconds(100), spread: spread)
        try await sleep(seconds: 2.1 + 3)
        let after = try await fleet.snapshot()
        try await fleet.closeAll()
        let stayed =
            result.connected == attempt && beforeHeartbeat.droppedByPeer == 0
            && after.answeredInWindow == attempt && after.droppedByPeer == 0
        idle = Report.Idle(
            chargers: options.idleChargers,
            attempted: attempt,
            capacityNote: idleShortfall,
            connected: result.connected,
            connectSeconds: seconds,
            firstError: result.firstError,
            droppedDuringHold: beforeHeartbeat.droppedByPeer,
            heartbeatsAnswered: after.answeredInWindow,
            stayedConnected: stayed,
            rssKiB: rss,
            perChargerKiB: Double(rss - baseRSS) / Double(max(1, result.connected)),
            loadGuardOpenFiles: files,
            csmsSessionsOpen: sessions,
            heartbeatLatencyMicroseconds: LatencySummary(nanoseconds: after.roundTrips)
        )
    }

    let peak = ProcFS.peakRSSKiB(pid: loadGuard.pid) ?? -1
    let loadGuardLimit = ProcFS.openFileLimit(pid: loadGuard.pid) ?? -1
    guard loadGuard.isRunning else {
        throw BenchmarkError.setup(
            "LoadGuard exited during the run (\(loadGuard.exitDescription)); its log:\n\(loadGuard.logTail())"
        )
    }
    await nginx.stop(signal: SIGQUIT)
    await loadGuard.stop()
    children.removeAll()
    await csms.process.stop()
    try await chargerGroup.shutdownGracefully()

    // Numbers, ratios and targets.
    let directPath = pathReport(directSnapshot)
    let loadGuardPath = pathReport(loadGuardSnapshot)
    let nginxPath = pathReport(nginxSnapshot)
    let d = directPath.latencyMicroseconds
    let l = loadGuardPath.latencyMicroseconds
    let n = nginxPath.latencyMicroseconds
    let loadGuardOverhead = Report.Overhead(p50Microseconds: l.p50 - d.p50, p99Microseconds: l.p99 - d.p99)
    let nginxOverhead = Report.Overhead(p50Microseconds: n.p50 - d.p50, p99Microseconds: n.p99 - d.p99)
    func memory(idle: Int, connected: Int, after: Int) -> Report.Memory {
        Report.Memory(
            idleRSSKiB: idle,
            connectedRSSKiB: connected,
            afterTrafficRSSKiB: after,
            perChargerKiB: Double(max(connected, after) - idle) / Double(options.chargers)
        )
    }
    let loadGuardMemory = memory(
        idle: loadGuardIdleRSS,
        connected: loadGuardConnectedRSS,
        after: loadGuardAfterTrafficRSS
    )
    let nginxMemory = memory(idle: nginxIdleRSS, connected: nginxConnectedRSS, after: nginxAfterTrafficRSS)
    let loadGuardFrames = loadGuardSnapshot.sentInWindow + loadGuardSnapshot.answeredInWindow
    let nginxFrames = nginxSnapshot.sentInWindow + nginxSnapshot.answeredInWindow
    func cpuPer1000(_ account: CPUAccount, frames: Int) -> Double {
        Double(account.ticks) / ProcFS.clockTicksPerSecond * 1000 / Double(max(1, frames)) * 1000
    }
    let loadGuardCPUPer1000 = cpuPer1000(loadGuardCPU, frames: loadGuardFrames)
    let nginxCPUPer1000 = cpuPer1000(nginxCPU, frames: nginxFrames)

    var missed: [String] = []
    let overheadRatioP99 = loadGuardOverhead.p99Microseconds / nginxOverhead.p99Microseconds
    if nginxOverhead.p99Microseconds <= 0 {
        if loadGuardOverhead.p99Microseconds > 0 {
            missed.append(
                "p99 overhead: nginx added none (\(fixed(nginxOverhead.p99Microseconds)) µs) and LoadGuard added "
                    + "\(fixed(loadGuardOverhead.p99Microseconds)) µs, so the ratio is unbounded (target ≤ 2)"
            )
        }
    } else if overheadRatioP99 > 2 {
        missed.append(
            "p99 overhead: LoadGuard adds \(fixed(loadGuardOverhead.p99Microseconds)) µs, nginx "
                + "\(fixed(nginxOverhead.p99Microseconds)) µs: ratio \(fixed(overheadRatioP99, 2)) (target ≤ 2)"
        )
    }
    if loadGuardMemory.perChargerKiB > 64 {
        missed.append(
            "memory per charger: \(fixed(loadGuardMemory.perChargerKiB, 1)) KiB with \(options.chargers) chargers (target ≤ 64 KiB)"
        )
    }
    for (name, path) in [("direct", directPath), ("LoadGuard", loadGuardPath), ("nginx", nginxPath)] {
        if path.callsAnswered != path.callsSent || path.callErrors > 0 || path.connectionsDropped > 0 {
            missed.append(
                "\(name) path: \(path.callsSent - path.callsAnswered) of \(path.callsSent) calls unanswered, "
                    + "\(path.callErrors) CALLERRORs, \(path.connectionsDropped) connections dropped (expected none)"
            )
        }
    }
    if let idle {
        if let note = idle.capacityNote {
            missed.append("idle chargers: \(note)")
        }
        if !idle.stayedConnected {
            missed.append(
                "idle chargers: \(idle.connected) of \(idle.attempted) connected, \(idle.droppedDuringHold) dropped while idle, "
                    + "\(idle.heartbeatsAnswered) answered the final Heartbeat (expected all \(idle.attempted))"
                    + (idle.firstError.map { "; first error: \($0)" } ?? "")
            )
        }
        if idle.rssKiB > 24 * 1_048_576 {
            missed.append("idle chargers: LoadGuard's RSS is \(idle.rssKiB) KiB (target ≤ 24 GiB)")
        }
        if idle.perChargerKiB > 64 {
            missed.append("idle chargers: \(fixed(idle.perChargerKiB, 1)) KiB per charger (target ≤ 64 KiB)")
        }
    }

    return Report(
        chargers: options.chargers,
        measuredSecondsPerPath: options.seconds,
        segments: options.segments,
        nginxWorkers: options.nginxWorkers,
        loadGuardBinary: binary,
        loadGuardBinaryWarning: binaryWarning,
        loadAverageStart: loadStart,
        loadAverageEnd: loadAverage(),
        direct: directPath,
        loadGuard: loadGuardPath,
        nginx: nginxPath,
        loadGuardOverhead: loadGuardOverhead,
        nginxOverhead: nginxOverhead,
        overheadRatioP99: overheadRatioP99,
        overheadRatioP50: loadGuardOverhead.p50Microseconds / nginxOverhead.p50Microseconds,
        loadGuardLatencyRatioP50: l.p50 / d.p50,
        loadGuardLatencyRatioP99: l.p99 / d.p99,
        loadGuardMemory: loadGuardMemory,
        nginxMemory: nginxMemory,
        memoryPerChargerRatio: loadGuardMemory.perChargerKiB / nginxMemory.perChargerKiB,
        loadGuardCPUMillisecondsPer1000Frames: loadGuardCPUPer1000,
        nginxCPUMillisecondsPer1000Frames: nginxCPUPer1000,
        cpuRatio: loadGuardCPUPer1000 / nginxCPUPer1000,
        loadGuardFramesMeasured: loadGuardFrames,
        nginxFramesMeasured: nginxFrames,
        loadGuardPeakRSSKiB: peak,
        idle: idle,
        startingOpenFileLimit: startingLimit.soft,
        loadGuardOpenFileLimit: loadGuardLimit,
        missedTargets: missed
    )
}

if CommandLine.arguments.dropFirst().first == CSMSProcess.flag {
    do {
        try await CSMSProcess.serve()
    } catch {
        say("ProxyBenchmark CSMS: \(error)")
        exit(2)
    }
}

do {
    guard let options = try Options.parse(Array(CommandLine.arguments.dropFirst())) else {
        print(Options.usage)
        exit(0)
    }
    let report = try await run(options: options)
    report.printTable()
    print(report.jsonLine())
    exit(report.missedTargets.isEmpty ? 0 : 1)
} catch {
    say("ProxyBenchmark: \(error)")
    exit(2)
}
