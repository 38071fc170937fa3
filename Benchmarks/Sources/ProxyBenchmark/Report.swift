import Foundation

/// Every number of one run, printed as a table and as one JSON line.
struct Report: Codable {
    struct Path: Codable {
        var latencyMicroseconds: LatencySummary
        var callsSent: Int
        var callsAnswered: Int
        var callErrors: Int
        /// CALLs the path sent to the chargers, by action.
        var callsFromPath: [String: Int]
        var connectionsDropped: Int
        /// p99 of how late the generator sent against its schedule, microseconds.
        var generatorLatenessP99Microseconds: Double
    }

    struct Overhead: Codable {
        /// Path minus direct, microseconds.
        var p50Microseconds: Double
        var p99Microseconds: Double
    }

    struct Memory: Codable {
        var idleRSSKiB: Int
        var connectedRSSKiB: Int
        var afterTrafficRSSKiB: Int
        /// (max(connected, after traffic) − idle) ÷ chargers.
        var perChargerKiB: Double
    }

    struct Idle: Codable {
        /// Idle chargers asked for.
        var chargers: Int
        /// Idle chargers connected for: fewer than asked when LoadGuard's open-file limit has no room.
        var attempted: Int
        var capacityNote: String?
        var connected: Int
        var connectSeconds: Double
        var firstError: String?
        var droppedDuringHold: Int
        var heartbeatsAnswered: Int
        var stayedConnected: Bool
        var rssKiB: Int
        var perChargerKiB: Double
        var loadGuardOpenFiles: Int
        var csmsSessionsOpen: Int
        var heartbeatLatencyMicroseconds: LatencySummary
    }

    var chargers: Int
    var measuredSecondsPerPath: Int
    var segments: Int
    var nginxWorkers: Int
    var loadGuardBinary: String
    var loadGuardBinaryWarning: String?
    var loadAverageStart: String
    var loadAverageEnd: String
    var direct: Path
    var loadGuard: Path
    var nginx: Path
    var loadGuardOverhead: Overhead
    var nginxOverhead: Overhead
    /// LoadGuard's p99 overhead ÷ nginx's (target ≤ 2).
    var overheadRatioP99: Double
    var overheadRatioP50: Double
    /// LoadGuard's p50 and p99 round trip ÷ the direct connection's.
    var loadGuardLatencyRatioP50: Double
    var loadGuardLatencyRatioP99: Double
    var loadGuardMemory: Memory
    var nginxMemory: Memory
    var memoryPerChargerRatio: Double
    var loadGuardCPUMillisecondsPer1000Frames: Double
    var nginxCPUMillisecondsPer1000Frames: Double
    var cpuRatio: Double
    var loadGuardFramesMeasured: Int
    var nginxFramesMeasured: Int
    var loadGuardPeakRSSKiB: Int
    var idle: Idle?
    /// `ulimit -n` the benchmark was started with (what a LoadGuard started from the same shell gets).
    var startingOpenFileLimit: Int
    var loadGuardOpenFileLimit: Int
    var missedTargets: [String]

    func printTable() {
        func row(_ name: String, _ path: Path) -> String {
            let l = path.latencyMicroseconds
            return "  \(name.padding(toLength: 10, withPad: " ", startingAt: 0))"
                + "\(pad(fixed(l.p50), 10))\(pad(fixed(l.p99), 10))\(pad(fixed(l.p999), 10))\(pad(fixed(l.max), 10))"
                + "\(pad("\(path.callsAnswered)/\(path.callsSent)", 16))\(pad("\(path.callErrors)", 8))"
                + "\(pad(fixed(path.generatorLatenessP99Microseconds), 10))"
        }
        print("")
        print("LoadGuard OCPP proxy benchmark: \(chargers) chargers × (Heartbeat + MeterValues)/s on loopback,")
        print(
            "\(measuredSecondsPerPath) s measured per path in \(segments) interleaved slices; nginx worker_processes \(nginxWorkers)."
        )
        print("LoadGuard: \(loadGuardBinary)")
        if let loadGuardBinaryWarning { print("WARNING: \(loadGuardBinaryWarning)") }
        print("load average at start / end: \(loadAverageStart) / \(loadAverageEnd)")
        print("")
        print("Round trip (send → CALLRESULT), µs:")
        print("  path            p50       p99     p99.9       max   answered/sent  errors  gen-late")
        print(row("direct", direct))
        print(row("LoadGuard", loadGuard))
        print(row("nginx", nginx))
        for (name, path) in [("direct", direct), ("LoadGuard", loadGuard), ("nginx", nginx)]
        where !path.callsFromPath.isEmpty {
            let calls = path.callsFromPath.sorted { $0.key < $1.key }.map { "\($0.key) × \($0.value)" }
            print("  the \(name) path sent the chargers CALLs of its own: \(calls.joined(separator: ", "))")
        }
        print("")
        print("Added latency over direct, µs:        p50       p99")
        print(
            "  LoadGuard                     \(pad(fixed(loadGuardOverhead.p50Microseconds), 10))\(pad(fixed(loadGuardOverhead.p99Microseconds), 10))"
        )
        print(
            "  nginx                         \(pad(fixed(nginxOverhead.p50Microseconds), 10))\(pad(fixed(nginxOverhead.p99Microseconds), 10))"
        )
        print(
            "  LoadGuard ÷ nginx             \(pad(fixed(overheadRatioP50, 2), 10))\(pad(fixed(overheadRatioP99, 2), 10))   (target p99 ≤ 2)"
        )
        print(
            "  LoadGuard round trip ÷ direct \(pad(fixed(loadGuardLatencyRatioP50, 2), 10))\(pad(fixed(loadGuardLatencyRatioP99, 2), 10))"
        )
        print("")
        print("Memory (RSS, KiB):          idle   \(chargers) connected   after traffic   per charger")
        for (name, memory) in [("LoadGuard", loadGuardMemory), ("nginx (workers)", nginxMemory)] {
            print(
                "  \(name.padding(toLength: 18, withPad: " ", startingAt: 0))\(pad("\(memory.idleRSSKiB)", 10))"
                    + "\(pad("\(memory.connectedRSSKiB)", 16))\(pad("\(memory.afterTrafficRSSKiB)", 16))"
                    + "\(pad(fixed(memory.perChargerKiB, 2), 14))"
            )
        }
        print("  LoadGuard ÷ nginx per charger: \(fixed(memoryPerChargerRatio, 2))   (target LoadGuard ≤ 64 KiB)")
        print("  LoadGuard peak RSS (VmHWM): \(loadGuardPeakRSSKiB) KiB")
        print("")
        print("CPU (user + system) per 1,000 frames forwarded:")
        print("  LoadGuard \(fixed(loadGuardCPUMillisecondsPer1000Frames, 2)) ms (\(loadGuardFramesMeasured) frames)")
        print("  nginx     \(fixed(nginxCPUMillisecondsPer1000Frames, 2)) ms (\(nginxFramesMeasured) frames)")
        print("  LoadGuard ÷ nginx: \(fixed(cpuRatio, 2))")
        if let idle {
            print("")
            print("\(idle.chargers) idle chargers through LoadGuard:")
            if let note = idle.capacityNote { print("  \(note)") }
            print(
                "  connected \(idle.connected) of \(idle.attempted) in \(fixed(idle.connectSeconds, 1)) s; dropped while idle: \(idle.droppedDuringHold)"
            )
            print(
                "  heartbeats answered afterwards: \(idle.heartbeatsAnswered) (p50 \(fixed(idle.heartbeatLatencyMicroseconds.p50)) µs, p99 \(fixed(idle.heartbeatLatencyMicroseconds.p99)) µs)"
            )
            print("  stayed connected: \(idle.stayedConnected ? "yes" : "NO")")
            if let firstError = idle.firstError { print("  first connect error: \(firstError)") }
            print(
                "  RSS \(idle.rssKiB) KiB = \(fixed(Double(idle.rssKiB) / 1_048_576, 2)) GiB (target ≤ 24 GiB); \(fixed(idle.perChargerKiB, 2)) KiB per charger (target ≤ 64)"
            )
            print(
                "  LoadGuard's open files: \(idle.loadGuardOpenFiles) (its limit \(loadGuardOpenFileLimit); `ulimit -n` here was \(startingOpenFileLimit))"
            )
        }
        print("")
        if missedTargets.isEmpty {
            print("All targets met.")
        } else {
            for missed in missedTargets { print("MISSED: \(missed)") }
        }
    }

    func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
}
